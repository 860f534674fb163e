// The pure parts of the storage layer, and the file:// store's S3 semantics.
#include <fstream>

#include <doctest/doctest.h>
#include <unistd.h>

#include "storage/file_store.hpp"
#include "storage/location.hpp"
#include "storage/retry.hpp"
#include "storage/s3_config.hpp"
#include "storage/s3_response.hpp"
#include "storage/s3_xml.hpp"
#include "storage/transfer.hpp"

using namespace mlwm::storage;
namespace fs = std::filesystem;

TEST_CASE("ListObjectsV2 pages: objects, prefixes, url-encoded keys, paging") {
    const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p%2F</Prefix>
<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>
<NextContinuationToken>tok+en/=</NextContinuationToken><EncodingType>url</EncodingType>
<Contents><Key>p%2Fa+b%2B%3D%25%E6%97%A5</Key><LastModified>2023-10-01T12:00:00.000Z</LastModified>
<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size></Contents>
<CommonPrefixes><Prefix>p%2F2023-10-01T1200Z%2F</Prefix></CommonPrefixes>
<CommonPrefixes><Prefix>p%2F2023-10-01T1800Z%2F</Prefix></CommonPrefixes></ListBucketResult>)";
    const ListPage page = parse_list_page(xml);
    REQUIRE(page.result.objects.size() == 1);
    CHECK(page.result.objects[0].key == "p/a b+=%\xe6\x97\xa5");
    CHECK(page.result.objects[0].etag == "0cc175b9c0f1b6a831c399e269772661");
    CHECK(page.result.objects[0].size == 1);
    CHECK(page.result.common_prefixes ==
          std::vector<std::string>{"p/2023-10-01T1200Z/", "p/2023-10-01T1800Z/"});
    CHECK(page.truncated);
    CHECK(page.next_continuation_token == "tok+en/=");
    CHECK_THROWS_AS(parse_list_page("<Error><Code>NoSuchBucket</Code></Error>"), StorageError);
    CHECK_THROWS_AS(parse_list_page("not xml"), StorageError);
}

TEST_CASE("error documents, multipart and delete bodies") {
    const auto e = parse_error(
        "<?xml "
        "version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message/><RequestId>tx1</"
        "RequestId></Error>");
    REQUIRE(e.has_value());
    CHECK(e->code == "SignatureDoesNotMatch");
    CHECK(e->message.empty());
    CHECK(e->request_id == "tx1");
    CHECK_FALSE(parse_error("<ListBucketResult/>").has_value());
    CHECK_FALSE(parse_error("").has_value());
    CHECK(parse_upload_id("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</"
                          "Key><UploadId>2~abc</UploadId>"
                          "</InitiateMultipartUploadResult>") == "2~abc");
    CHECK(complete_multipart_body({{1, "aa"}, {2, "bb"}}) ==
          "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></"
          "Part><Part><PartNumber>2"
          "</PartNumber><ETag>\"bb\"</ETag></Part></CompleteMultipartUpload>");
    CHECK(delete_objects_body({"a&b", "<c>"}) ==
          "<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object><Object><Key>&lt;c&gt;</"
          "Key></Object></Delete>");
    const auto errs = parse_delete_errors(
        "<DeleteResult><Error><Key>k1</Key><Code>AccessDenied</Code><Message>no</Message></Error></"
        "DeleteResult>");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].key == "k1");
    CHECK(url_decode("a%2Fb+c%zz") == "a/b c%zz");
}

TEST_CASE("retry classes") {
    CHECK(retryable(0, "", true));
    for (long s : {500L, 502L, 503L, 504L}) CHECK(retryable(s, "", false));
    CHECK(retryable(503, "SlowDown", false));
    CHECK(retryable(400, "RequestTimeout", false));
    CHECK(retryable(409, "ConditionalRequestConflict", false));
    for (long s : {400L, 401L, 403L, 404L, 409L, 412L, 416L}) {
        CAPTURE(s);
        CHECK_FALSE(retryable(s, "", false));
    }
    CHECK_FALSE(retryable(403, "SignatureDoesNotMatch", false));
    CHECK_FALSE(retryable(412, "PreconditionFailed", false));
}

TEST_CASE("full-jitter backoff stays within [0, min(cap, base*2^n)]") {
    const RetryPolicy p{5, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
    CHECK(backoff(p, 0, 0.0).count() == 0);
    CHECK(backoff(p, 0, 0.999).count() == 99);
    CHECK(backoff(p, 2, 0.5).count() == 200);
    CHECK(backoff(p, 10, 0.999).count() == 999);  // capped
    CHECK(backoff(p, 3, 1.5).count() == 800);     // clamped sample
}

TEST_CASE("S3 settings: configuration, then environment, then shared files") {
    S3Environment env;
    env.credentials_file =
        "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n"
        "[ops]\naws_access_key_id=OPSKEY\naws_secret_access_key=OPSSECRET\naws_session_token=TOK\n";
    env.config_file =
        "[default]\nregion = eu-north-1\n[profile ops]\nregion = eu-west-1\nendpoint_url = "
        "http://s3.ops:7480\n";
    S3Config c = resolve_s3_config({}, env);
    CHECK(c.credentials.access_key == "FILEKEY");
    CHECK(c.region == "eu-north-1");
    CHECK(c.endpoint == "https://s3.eu-north-1.amazonaws.com");
    CHECK(c.virtual_hosted);  // AWS itself
    env.vars["AWS_PROFILE"] = "ops";
    c = resolve_s3_config({}, env);
    CHECK(c.credentials.access_key == "OPSKEY");
    CHECK(c.credentials.session_token == "TOK");
    CHECK(c.endpoint == "http://s3.ops:7480");
    CHECK_FALSE(c.virtual_hosted);  // on-premises: path-style
    CHECK(c.credentials_source.find("ops") != std::string::npos);
    env.vars["AWS_ACCESS_KEY_ID"] = "ENVKEY";
    env.vars["AWS_SECRET_ACCESS_KEY"] = "ENVSECRET";
    env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:7480/";
    env.vars["AWS_REGION"] = "us-west-2";
    c = resolve_s3_config({}, env);
    CHECK(c.credentials.access_key == "ENVKEY");
    CHECK(c.credentials.session_token.empty());
    CHECK(c.endpoint == "http://127.0.0.1:7480");
    CHECK(c.region == "us-west-2");
    S3Settings explicit_settings;
    explicit_settings.credentials = {"CFGKEY", "CFGSECRET", ""};
    explicit_settings.endpoint = "http://minio:9000";
    explicit_settings.region = "x";
    c = resolve_s3_config(explicit_settings, env);
    CHECK(c.credentials.access_key == "CFGKEY");
    CHECK(c.endpoint == "http://minio:9000");
    CHECK(c.region == "x");
    CHECK(c.credentials_source == "configuration");
}

TEST_CASE("locations") {
    auto l = parse_location("s3://forecast-data/a/b.zarr");
    CHECK(l.scheme == Scheme::s3);
    CHECK(l.bucket == "forecast-data");
    CHECK(l.key == "a/b.zarr");
    CHECK(parse_location("s3://forecast-data").key.empty());
    CHECK(parse_location("file:///srv/store").path == fs::path("/srv/store"));
    CHECK(parse_location("./relative").scheme == Scheme::local);
    CHECK_THROWS_WITH_AS(parse_location("s3://Bad_Bucket/x"), doctest::Contains("Bad_Bucket"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(parse_location("file://relative"), doctest::Contains("three slashes"),
                         std::invalid_argument);
    CHECK_THROWS_AS(parse_location("gs://x/y"), std::invalid_argument);
}

TEST_CASE("keys that could escape the target folder are refused") {
    CHECK(safe_relative_path("p/a/b.bin", "p/") == fs::path("a/b.bin"));
    CHECK(safe_relative_path("p/a", "p") == fs::path("a"));
    CHECK(safe_relative_path("p/ü n+i=c%o~de", "p/") == fs::path("ü n+i=c%o~de"));
    for (const char* bad :
         {"p/../x", "p/a/../../x", "p/./x", "p//x", "p/a//b", "p/a\\..\\x", "p/", "q/x"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(safe_relative_path(bad, "p/"), StorageError);
    }
    CHECK_THROWS_AS(safe_relative_path(std::string("p/a\0b", 5), "p/"), StorageError);
    CHECK_THROWS_AS(safe_relative_path("p/" + std::string(256, 'x'), "p/"), StorageError);
    CHECK(is_folder_marker("p/dir/", 0));
    CHECK_FALSE(is_folder_marker("p/dir/", 3));
}

namespace {
struct TempRoot {
    fs::path p = fs::temp_directory_path() / ("mlwm-fs-" + std::to_string(::getpid()));
    TempRoot() { fs::remove_all(p); }
    ~TempRoot() { fs::remove_all(p); }
};
}  // namespace

TEST_CASE("file:// store: S3 listing semantics") {
    TempRoot t;
    FileStore s(t.p);
    for (const char* k : {"m/c/2023-10-01T0000Z/member0/a.zarr/.zmetadata",
                          "m/c/2023-10-01T0600Z/member0/a.zarr/.zmetadata",
                          "m/c/2023-10-01T1200Z/member0/a.zarr/0.0", "m/c/README", "m/d/x"})
        s.put_string(k, "x");
    auto r = s.list({.prefix = "m/c/", .delimiter = "/"});
    CHECK(r.common_prefixes == std::vector<std::string>{"m/c/2023-10-01T0000Z/",
                                                        "m/c/2023-10-01T0600Z/",
                                                        "m/c/2023-10-01T1200Z/"});
    REQUIRE(r.objects.size() == 1);
    CHECK(r.objects[0].key == "m/c/README");
    // start-after skips what sorts before, like S3
    r = s.list({.prefix = "m/c/", .delimiter = "/", .start_after = "m/c/2023-10-01T0000Z0"});
    CHECK(r.common_prefixes ==
          std::vector<std::string>{"m/c/2023-10-01T0600Z/", "m/c/2023-10-01T1200Z/"});
    // a prefix holding keys after start-after is still listed (S3 rolls keys up)
    r = s.list({.prefix = "m/c/", .delimiter = "/", .start_after = "m/c/2023-10-01T0600Z"});
    CHECK(r.common_prefixes ==
          std::vector<std::string>{"m/c/2023-10-01T0600Z/", "m/c/2023-10-01T1200Z/"});
    r = s.list({.prefix = "m/"});
    CHECK(r.objects.size() == 5);
    CHECK(std::is_sorted(r.objects.begin(), r.objects.end(),
                         [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
    r = s.list({.prefix = "m/c/2023-10-01T0"});  // a prefix that is not a folder
    CHECK(r.objects.size() == 2);
    CHECK(s.list({.prefix = "m/", .max_keys = 2}).objects.size() == 2);
    CHECK(s.list({.prefix = "nothing/"}).objects.empty());
}

TEST_CASE("file:// store: conditional create, remove, partial files invisible") {
    TempRoot t;
    FileStore s(t.p);
    CHECK(s.put_string("run/_mlwm_run.json", "{}", {.if_none_match = true}) == PutOutcome::created);
    CHECK(s.put_string("run/_mlwm_run.json", "{2}", {.if_none_match = true}) ==
          PutOutcome::already_exists);
    CHECK(s.get_string("run/_mlwm_run.json") == "{}");
    std::ofstream(t.p / "run" / ".x.mlwm-partial-1-1") << "partial";
    CHECK(s.list({.prefix = "run/"}).objects.size() == 1);
    CHECK(s.head("run/_mlwm_run.json")->size == 2);
    s.remove("run/_mlwm_run.json");
    CHECK_FALSE(s.head("run/_mlwm_run.json").has_value());
    CHECK_THROWS_AS(s.get_string("run/_mlwm_run.json"), StorageError);
    CHECK_THROWS_AS(s.put_string("../escape", "x"), StorageError);
}

TEST_CASE("transfer plans: folder prefixes and unsafe keys fail the whole plan") {
    TempRoot t;
    FileStore s(t.p / "store");
    s.put_string("in/a.zarr/.zmetadata", "{}");
    s.put_string("in/a.zarr/x/0.0", "data");
    const TransferPlan plan = plan_download(s, "in/a.zarr", t.p / "dest");
    REQUIRE(plan.items.size() == 2);
    CHECK(plan.items[0].path == t.p / "dest" / ".zmetadata");
    CHECK(plan.bytes == 6);
    const auto report = s.download(plan.items, {});
    CHECK(report.ok());
    CHECK(fs::file_size(t.p / "dest" / "x" / "0.0") == 4);
    const TransferPlan up = plan_upload(t.p / "dest", "out/b.zarr");
    REQUIRE(up.items.size() == 2);
    CHECK(up.items[0].key == "out/b.zarr/.zmetadata");
    CHECK(up.items[1].key == "out/b.zarr/x/0.0");
    CHECK(folder_prefix("a") == "a/");
    CHECK(folder_prefix("") == "");
}

TEST_CASE("classify_attempt: what an S3 answer comes to") {
    using K = AttemptVerdict::Kind;
    const std::vector<long> ok{200, 206};
    auto verdict = [&](AttemptView a) {
        a.ok_statuses = &ok;
        return classify_attempt(a);
    };
    CHECK(verdict({.status = 200}).kind == K::ok);
    CHECK(verdict({.status = 206}).kind == K::ok);
    // right status, wrong data (a short or corrupt body): fetched again
    CHECK(verdict({.status = 200, .data_check_failed = true}).kind == K::retryable);
    // the network: tried again; mlwm's own side (a full disk): not
    CHECK(verdict({.transport_error = true}).kind == K::retryable);
    CHECK(verdict({.transport_error = true, .local_io_error = true}).kind == K::final);
    // S3's errors by status and code
    const std::string slow = "<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>";
    const auto s = verdict({.status = 503, .response = slow});
    CHECK(s.kind == K::retryable);
    CHECK(s.s3_code == "SlowDown");
    CHECK(verdict({.status = 500}).kind == K::retryable);
    const std::string denied = "<Error><Code>SignatureDoesNotMatch</Code></Error>";
    const auto d = verdict({.status = 403, .response = denied});
    CHECK(d.kind == K::final);
    CHECK(d.s3_code == "SignatureDoesNotMatch");
    // bodiless answers (HEAD): the code the status implies
    CHECK(verdict({.status = 404}).s3_code == "NoSuchKey");
    CHECK(verdict({.status = 404}).kind == K::final);
    CHECK(verdict({.status = 403}).s3_code == "AccessDenied");
    CHECK(verdict({.status = 412}).kind == K::final);
}

TEST_CASE("failure_message: names the object and what to check") {
    FailureView f{.operation = "GetObject",
                  .bucket = "inputs",
                  .key = "a/b.zarr/.zmetadata",
                  .endpoint = "http://127.0.0.1:7480",
                  .status = 403,
                  .response =
                      "<Error><Code>InvalidAccessKeyId</Code><Message>no such "
                      "key</Message><RequestId>tx1</RequestId></Error>",
                  .access_key = "AKIA1",
                  .credentials_source = "the environment",
                  .region = "us-east-1"};
    CHECK(failure_message(f) ==
          "S3 GetObject s3://inputs/a/b.zarr/.zmetadata: HTTP 403 InvalidAccessKeyId: no such key "
          "(RequestId tx1); check the credentials (access key AKIA1 from the environment) and "
          "the region (us-east-1)");
    f.access_key = "";  // none configured: said so, not an empty key
    f.credentials_source = "";
    CHECK(failure_message(f).ends_with(
        "(RequestId tx1); no credentials were found, the request went unsigned: set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials"));
    f.response = "";
    f.status = 404;
    f.attempts = 3;
    CHECK(failure_message(f) ==
          "S3 GetObject s3://inputs/a/b.zarr/.zmetadata: HTTP 404 NoSuchKey (after 3 attempts)");
    f.transport_error = true;
    f.transport_text = "Connection refused";
    CHECK(failure_message(f).ends_with(
        ": connection to http://127.0.0.1:7480 failed: Connection refused (after 3 attempts)"));
    f.local_error = "writing /w/x.partial failed: No space left on device";
    CHECK(failure_message(f).ends_with(
        ": writing /w/x.partial failed: No space left on device (after 3 attempts)"));
}
