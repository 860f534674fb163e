#include <doctest/doctest.h>

#include "paths/error.hpp"
#include "paths/json.hpp"
#include "paths/key.hpp"

using namespace mlwm::paths;

namespace {
PNumber f(double v) {
    return PNumber::floating(v);
}
PNumber i(std::int64_t v) {
    return PNumber::integer(v);
}

DatasetKey readme_example() {
    return DatasetKey{"harmonie_cy46",
                      "danra",
                      {f(12.5), f(45.65), f(24.52), f(64.40)},
                      {f(2.5), f(2.5), Unit::km},
                      AnalysisTime::from_fields(2023, 10, 1, 12, 0),
                      0,
                      "pressure_levels"};
}
constexpr const char* kReadmeKey =
    "harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/"
    "dx2p5km_dy2p5km/2023-10-01T1200Z/member0/pressure_levels.zarr";
}  // namespace

TEST_CASE("bbox and resolution examples") {
    const BBox b{f(-10.5), f(35.0), f(10.5), f(45.0)};
    CHECK(format_bbox(b) == "w-10p5_s35p0_e10p5_n45p0");
    CHECK(parse_bbox("w-10p5_s35p0_e10p5_n45p0") == b);
    const Resolution r{f(0.1), f(0.2), Unit::deg};
    CHECK(format_resolution(r) == "dx0p1deg_dy0p2deg");
    CHECK(parse_resolution("dx0p1deg_dy0p2deg") == r);
    CHECK(format_bbox({i(-10), i(50), i(10), i(60)}) == "w-10_s50_e10_n60");
}

TEST_CASE("resolutions whose numbers share trailing characters split correctly") {
    // The original parser returned lon 2, lat 2, unit "p5km" for this one.
    CHECK(parse_resolution("dx2p5km_dy2p5km") == Resolution{f(2.5), f(2.5), Unit::km});
    CHECK(parse_resolution("dx2500m_dy2000m") == Resolution{i(2500), i(2000), Unit::m});
    CHECK(parse_resolution("dx0p25deg_dy0p25deg") == Resolution{f(0.25), f(0.25), Unit::deg});
    CHECK(parse_resolution("dx12km_dy12km") == Resolution{i(12), i(12), Unit::km});
    CHECK(parse_resolution("dx5m_dy5m") == Resolution{i(5), i(5), Unit::m});
}

TEST_CASE("bad bbox and resolution segments") {
    CHECK_THROWS_WITH(parse_bbox("w1_s2_e3"), doctest::Contains("not 4"));
    CHECK_THROWS_WITH(parse_bbox("x1_s2_e3_n4"), doctest::Contains("must start with 'w'"));
    CHECK_THROWS_WITH(parse_bbox("w1_s2_e3_nX"), doctest::Contains("lat_max"));
    CHECK_THROWS_AS(parse_bbox("W1_s2_e3_n4"), PathError);
    CHECK_THROWS_AS(parse_bbox("w1_s2_e3_n4_"), PathError);
    CHECK_THROWS_WITH(parse_resolution("dx2p5mi_dy2p5mi"),
                      doctest::Contains("not one of m, km, deg"));
    CHECK_THROWS_WITH(parse_resolution("dx2p5km_dy2p5m"), doctest::Contains("same unit"));
    CHECK_THROWS_WITH(parse_resolution("dx0km_dy1km"), doctest::Contains("must be positive"));
    CHECK_THROWS_WITH(parse_resolution("dx-1km_dy1km"), doctest::Contains("must be positive"));
    CHECK_THROWS_AS(parse_resolution("dx2p5KM_dy2p5KM"), PathError);
    CHECK_THROWS_AS(parse_resolution("DX2p5km_dy2p5km"), PathError);
    CHECK_THROWS_AS(parse_resolution("dxkm_dykm"), PathError);
    CHECK_THROWS_AS(parse_resolution("dx2pkm_dy2pkm"), PathError);
    CHECK_THROWS_AS(parse_resolution("dx2p5km"), PathError);
    CHECK_THROWS_AS(format_resolution({f(0.0), f(1.0), Unit::m}), PathError);
}

TEST_CASE("member") {
    CHECK(format_member(0) == "member0");
    CHECK(parse_member("member0") == 0);
    CHECK(parse_member("member12") == 12);
    CHECK(parse_member("member4294967295") == 4294967295u);
    for (const char* bad : {"member", "member-1", "member01", "Member0", "member1a", "mem0",
                            "member4294967296", "member 1", "member+1"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_member(bad), PathError);
    }
}

TEST_CASE("the README example, both ways") {
    CHECK(create_path(readme_example()) == kReadmeKey);
    CHECK(parse_path(kReadmeKey) == readme_example());
}

TEST_CASE("integers and floats stay distinct through a key") {
    DatasetKey k = readme_example();
    k.bbox = {i(-10), f(50.0), i(10), f(60.0)};
    k.resolution = {i(2500), i(2500), Unit::m};
    k.member = 3;
    const std::string key = create_path(k);
    CHECK(key ==
          "harmonie_cy46/danra/w-10_s50p0_e10_n60p0/dx2500m_dy2500m/2023-10-01T1200Z/"
          "member3/pressure_levels.zarr");
    CHECK(parse_path(key) == k);
    CHECK(parse_path(key).bbox.lon_min.is_integer());
    CHECK_FALSE(parse_path(key).bbox.lat_min.is_integer());
}

TEST_CASE("parse_path is strict and names the segment") {
    const std::string good = kReadmeKey;
    CHECK_THROWS_WITH(parse_path("a/b/c"), doctest::Contains("expected 7"));
    CHECK_THROWS_WITH(parse_path(good + "/"), doctest::Contains("has 8"));
    CHECK_THROWS_WITH(parse_path("/" + good), doctest::Contains("has 8"));
    CHECK_THROWS_WITH(parse_path(good.substr(good.find('/'))),
                      doctest::Contains("segment 1 (model_name)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52/dx2p5km_dy2p5km/"
                                 "2023-10-01T1200Z/member0/pressure_levels.zarr"),
                      doctest::Contains("segment 3 (bbox)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5/"
                                 "2023-10-01T1200Z/member0/pressure_levels.zarr"),
                      doctest::Contains("segment 4 (resolution)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/"
                                 "2023-10-01T12:00Z/member0/pressure_levels.zarr"),
                      doctest::Contains("segment 5 (analysis time)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/"
                                 "2023-10-01T1200Z/member_0/pressure_levels.zarr"),
                      doctest::Contains("segment 6 (member)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/"
                                 "2023-10-01T1200Z/member0/pressure_levels.ZARR"),
                      doctest::Contains("segment 7 (data kind)"));
    CHECK_THROWS_WITH(parse_path("harmonie_cy46/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/"
                                 "2023-10-01T1200Z/member0/.zarr"),
                      doctest::Contains("is empty"));
    // like the original, a name is any UTF-8 text without '/' or control characters
    for (const std::string name : {"FakeDINI+FakeIFS", "harmonie cy46", "DINI_v2", "m\u00e5ling",
                                   "a=b,c", "..x", ".hidden"}) {
        CAPTURE(name);
        const auto k = parse_path(name + "/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/" +
                                  "2023-10-01T1200Z/member0/" + name + ".zarr");
        CHECK(k.model_name == name);
        CHECK(k.data_kind == name);
        CHECK(parse_path(create_path(k)) == k);
    }
    const std::string rest =
        "/danra/w12p5_s45p65_e24p52_n64p4/dx2p5km_dy2p5km/2023-10-01T1200Z/member0/x.zarr";
    CHECK_THROWS_WITH(parse_path(".." + rest), doctest::Contains("is a relative folder name"));
    CHECK_THROWS_WITH(parse_path("a\tb" + rest),
                      doctest::Contains("'a\\x09b': contains a control character"));
    // bytes that are not UTF-8 are refused, and shown escaped (the message stays UTF-8)
    CHECK_THROWS_WITH(parse_path("har\x93\x88nie" + rest),
                      doctest::Contains("'har\\x93\\x88nie': is not valid UTF-8"));
    CHECK_THROWS_WITH(parse_path("\xed\xa0\x80" + rest), doctest::Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(parse_path("\xc0\xaf" + rest), doctest::Contains("not valid UTF-8"));
}

TEST_CASE("create_path refuses what it cannot write") {
    DatasetKey k = readme_example();
    k.model_name = "a/b";
    CHECK_THROWS_AS(create_path(k), PathError);
    k = readme_example();
    k.data_kind = "";
    CHECK_THROWS_AS(create_path(k), PathError);
    k = readme_example();
    k.resolution.unit = Unit::deg;
    k.resolution.lat_resolution = i(-1);
    CHECK_THROWS_AS(create_path(k), PathError);
}

TEST_CASE("s3:// locations") {
    const auto loc = parse_location(std::string("s3://forecast-data-public/") + kReadmeKey);
    REQUIRE(loc.bucket.has_value());
    CHECK(*loc.bucket == "forecast-data-public");
    CHECK(loc.key == readme_example());
    CHECK_FALSE(parse_location(kReadmeKey).bucket.has_value());
    CHECK_THROWS_WITH(parse_location(std::string("s3://Bad_Bucket/") + kReadmeKey),
                      doctest::Contains("bucket 'Bad_Bucket'"));
    CHECK_THROWS_AS(parse_location("s3://bucket"), PathError);
}

TEST_CASE("JSON rendering keeps integers as integers") {
    DatasetLocation loc{"bucket1", readme_example()};
    loc.key.resolution = {i(2500), i(2000), Unit::m};
    const std::string json = to_json(loc).dump();
    CHECK(json ==
          R"({"bucket":"bucket1","model_name":"harmonie_cy46","model_config":"danra",)"
          R"("bbox":{"lon_min":12.5,"lat_min":45.65,"lon_max":24.52,"lat_max":64.4},)"
          R"("resolution":{"lon_resolution":2500,"lat_resolution":2000,"unit":"m"},)"
          R"("analysis_time":"2023-10-01T12:00:00Z","member":0,"data_kind":"pressure_levels"})");
    const std::string text = to_text(loc);
    CHECK(text.find("lon 12.5 to 24.52, lat 45.65 to 64.4") != std::string::npos);
    CHECK(text.find("dx 2500 m, dy 2000 m") != std::string::npos);
    CHECK(text.find("0 (control)") != std::string::npos);
}
