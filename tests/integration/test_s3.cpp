// The S3 backend against a real S3 server (Ceph radosgw on loopback, started
// by tests/integration/run.sh).
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include "fault_proxy.hpp"
#include "storage/file_store.hpp"
#include "storage/s3_store.hpp"
#include "storage/transfer.hpp"
#include "test_env.hpp"
#include "util/hash.hpp"

using namespace mlwm::storage;
using namespace mlwm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::string endpoint() {
    return require_env("MLWM_TEST_S3_ENDPOINT");
}
std::string bucket() {
    return require_env("MLWM_TEST_S3_BUCKET");
}

S3Config config(const std::string& ep = endpoint()) {
    S3Settings s;
    s.endpoint = ep;
    return resolve_s3_config(s, load_s3_environment());
}

std::string unique_prefix(const std::string& name) {
    static int n = 0;
    return "it-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "-" + name + "/";
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

int endpoint_port(const std::string& ep) {
    return std::stoi(ep.substr(ep.rfind(':') + 1));
}

// Counts requests per operation (and whether any was retried).
struct Counting {
    std::map<std::string, int> requests;
    S3Counters counters() {
        return {[this](const std::string& op, long) { ++requests[op]; }, {}};
    }
};

}  // namespace

TEST_SUITE_BEGIN("s3");

TEST_CASE("put, get, head, delete; keys with spaces, +, =, %, ~ and unicode round-trip") {
    S3Store s(config(), bucket());
    const std::string p = unique_prefix("keys");
    const std::vector<std::string> keys = {p + "plain",
                                           p + "with space",
                                           p + "plus+sign",
                                           p + "eq=ual",
                                           p + "per%cent",
                                           p + "til~de",
                                           p + "ünï/cødé/日本語.zarr/.zmetadata",
                                           p + "a&b<c>'\"",
                                           p + "q?u#e;ry"};
    for (const auto& k : keys) REQUIRE(s.put_string(k, "value of " + k) == PutOutcome::created);
    for (const auto& k : keys) {
        CAPTURE(k);
        CHECK(s.get_string(k) == "value of " + k);
        const auto h = s.head(k);
        REQUIRE(h.has_value());
        CHECK(h->size == ("value of " + k).size());
        CHECK(h->etag == mlwm::util::md5_hex("value of " + k));
    }
    const ListResult listed = s.list({.prefix = p});
    REQUIRE(listed.objects.size() == keys.size());
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) CHECK(listed.objects[i].key == sorted[i]);
    s.remove(keys[0]);
    CHECK_FALSE(s.head(keys[0]).has_value());
    s.remove_many(keys);
    CHECK(s.list({.prefix = p}).objects.empty());
}

TEST_CASE("listing: delimiter, common prefixes, start-after, paging over 1000 keys") {
    S3Store s(config(), bucket());
    Counting counting;
    s.set_counters(counting.counters());
    const std::string p = unique_prefix("list");
    // 1200 objects below 3 analysis-time folders and a few at the top
    TransferPlan plan;
    TempDir tmp;
    for (int t = 0; t < 3; ++t)
        for (int i = 0; i < 400; ++i) {
            const std::string rel =
                "2023-10-0" + std::to_string(t + 1) + "T1200Z/member0/x.zarr/" + std::to_string(i);
            write_file(tmp.path() / rel, "c");
        }
    write_file(tmp.path() / "README", "r");
    plan = plan_upload(tmp.path(), p);
    REQUIRE(s.upload(plan.items, {.concurrency = 32}).ok());

    ListResult r = s.list({.prefix = p, .delimiter = "/"});
    CHECK(r.common_prefixes == std::vector<std::string>{p + "2023-10-01T1200Z/",
                                                        p + "2023-10-02T1200Z/",
                                                        p + "2023-10-03T1200Z/"});
    REQUIRE(r.objects.size() == 1);
    CHECK(r.objects[0].key == p + "README");
    CHECK(r.requests == 1);
    // start-after past a whole analysis-time folder: the poll of the daemon
    r = s.list({.prefix = p, .delimiter = "/", .start_after = p + "2023-10-01T1200Z0"});
    CHECK(r.common_prefixes ==
          std::vector<std::string>{p + "2023-10-02T1200Z/", p + "2023-10-03T1200Z/"});
    CHECK(r.objects.size() == 1);
    // paging: 1201 keys need two pages
    r = s.list({.prefix = p});
    CHECK(r.objects.size() == 1201);
    CHECK(r.requests == 2);
    CHECK(std::is_sorted(r.objects.begin(), r.objects.end(),
                         [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
    CHECK(s.list({.prefix = p, .max_keys = 10}).objects.size() == 10);
    // batch delete: 1201 keys in two DeleteObjects requests
    counting.requests.clear();
    std::vector<std::string> keys;
    for (const auto& o : r.objects) keys.push_back(o.key);
    s.remove_many(keys);
    CHECK(counting.requests["DeleteObjects"] == 2);
    CHECK(s.list({.prefix = p}).objects.empty());
}

TEST_CASE("conditional create: 412 is 'already exists', never retried") {
    S3Store s(config(), bucket());
    Counting counting;
    s.set_counters(counting.counters());
    const std::string k = unique_prefix("cond") + "_mlwm_run.json";
    CHECK(s.put_string(k, "first", {.if_none_match = true}) == PutOutcome::created);
    CHECK(s.put_string(k, "second", {.if_none_match = true}) == PutOutcome::already_exists);
    CHECK(counting.requests["PutObject"] == 2);
    CHECK(s.get_string(k) == "first");
    s.remove(k);
}

TEST_CASE(
    "download and upload of a zarr-like store: small, ranged and multipart objects, verified") {
    S3Tuning tuning;
    tuning.multipart_threshold = 6 << 20;  // S3's minimum part size is 5 MiB
    tuning.part_size = 5 << 20;
    tuning.ranged_threshold = 4 << 20;
    tuning.range_size = 1 << 20;
    S3Store s(config(), bucket(), {}, tuning);
    Counting counting;
    s.set_counters(counting.counters());
    const std::string p = unique_prefix("zarr") + "pressure_levels.zarr";
    TempDir src, dst;
    write_file(src.path() / ".zmetadata", "{\"zarr_consolidated_format\":1}");
    write_file(src.path() / "empty", "");
    for (int i = 0; i < 50; ++i)
        write_file(src.path() / "t" / ("0." + std::to_string(i)), random_bytes(65536, i));
    write_file(src.path() / "big" / "0.0",
               random_bytes(12 << 20, 99));                             // multipart up, ranged down
    write_file(src.path() / "mid" / "0.0", random_bytes(5 << 20, 98));  // single up, ranged down
    const TransferPlan up = plan_upload(src.path(), p);
    std::uint64_t progress_bytes = 0;
    std::size_t progress_objects = 0;
    const TransferReport ur =
        s.upload(up.items, {.concurrency = 8, .progress = [&](std::uint64_t b, std::size_t o) {
                                progress_bytes += b;
                                progress_objects += o;
                            }});
    CHECK(ur.ok());
    CHECK(ur.objects == up.items.size());
    CHECK(progress_objects == up.items.size());
    CHECK(progress_bytes == up.bytes);
    CHECK(counting.requests["CreateMultipartUpload"] == 1);
    CHECK(counting.requests["UploadPart"] == 3);
    CHECK(counting.requests["CompleteMultipartUpload"] == 1);
    const auto big = s.head(p + "/big/0.0");
    REQUIRE(big.has_value());
    CHECK(big->etag.find("-3") != std::string::npos);  // a multipart ETag

    counting.requests.clear();
    const TransferPlan down = plan_download(s, p, dst.path() / "copy.zarr");
    const TransferReport dr = s.download(down.items, {.concurrency = 8});
    CHECK(dr.ok());
    CHECK(dr.bytes == up.bytes);
    CHECK(counting.requests["GetObject"] == 52 + 12 + 5);  // 52 whole objects, 12 + 5 ranges
    for (const auto& item : up.items) {
        const fs::path rel = fs::relative(item.path, src.path());
        CAPTURE(rel);
        CHECK(read_file(dst.path() / "copy.zarr" / rel) == read_file(item.path));
    }
    // no temporary files left anywhere
    for (const auto& e : fs::recursive_directory_iterator(dst.path()))
        CHECK(e.path().filename().string().find(".mlwm-partial-") == std::string::npos);
    std::vector<std::string> keys;
    for (const auto& i : up.items) keys.push_back(i.key);
    s.remove_many(keys);
}

TEST_CASE("a wrong secret is a clear signature error at once, not a retry loop") {
    S3Config c = config();
    c.credentials.secret_key = "not-the-secret";
    S3Store s(c, bucket());
    Counting counting;
    s.set_counters(counting.counters());
    const auto t0 = std::chrono::steady_clock::now();
    try {
        s.list({.prefix = "x/"});
        FAIL("listing with a wrong secret succeeded");
    } catch (const StorageError& e) {
        const std::string m = e.what();
        CHECK(e.code() == "SignatureDoesNotMatch");
        CHECK(e.status() == 403);
        CHECK(m.find("ListObjectsV2") != std::string::npos);
        CHECK(m.find("check the credentials") != std::string::npos);
        CHECK(m.find("not-the-secret") == std::string::npos);  // never the secret
    }
    CHECK(counting.requests["ListObjectsV2"] == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("missing objects: 404 is not retried and names the key") {
    S3Store s(config(), bucket());
    Counting counting;
    s.set_counters(counting.counters());
    const std::string k = unique_prefix("missing") + "nothing";
    CHECK_FALSE(s.head(k).has_value());
    try {
        s.get_string(k);
        FAIL("get of a missing key succeeded");
    } catch (const StorageError& e) {
        CHECK(e.code() == "NoSuchKey");
        CHECK(std::string(e.what()).find(k) != std::string::npos);
    }
    CHECK(counting.requests["GetObject"] == 1);
    TempDir dst;
    const TransferReport r = s.download({{k, dst.path() / "f", 10, ""}}, {});
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].key == k);
    CHECK(fs::is_empty(dst.path()));
}

TEST_CASE("keys that would escape the target folder: nothing is written") {
    S3Store s(config(), bucket());
    const std::string p = unique_prefix("evil");
    s.put_string(p + "ok", "fine");
    s.put_string(p + "../../escaped", "evil");
    TempDir dst;
    CHECK_THROWS_WITH_AS(plan_download(s, p, dst.path() / "target"), doctest::Contains("'..'"),
                         StorageError);
    CHECK_FALSE(fs::exists(dst.path() / "target"));
    CHECK_FALSE(fs::exists(dst.path() / "escaped"));
    s.remove_many({p + "ok", p + "../../escaped"});
}

TEST_CASE(
    "connections dropped mid-body: retried, and after the last attempt a clear error and no "
    "partial file") {
    S3Store direct(config(), bucket());
    const std::string p = unique_prefix("drops");
    direct.put_string(p + "obj", random_bytes(1 << 20, 7));
    FaultProxy proxy(endpoint_port(endpoint()));
    proxy.drop_after_response_bytes = 4096;  // headers and a little of the body
    RetryPolicy retry{4, 10ms, 100ms};
    {
        proxy.faulty_connections = 2;  // two drops, then the data flows
        S3Store s(config("http://127.0.0.1:" + std::to_string(proxy.port())), bucket(), retry);
        TempDir dst;
        const TransferReport r = s.download({{p + "obj", dst.path() / "obj", 1 << 20, ""}}, {});
        CHECK(r.ok());
        CHECK(proxy.dropped >= 2);
        CHECK(read_file(dst.path() / "obj") == direct.get_string(p + "obj"));
    }
    {
        proxy.faulty_connections = 1000;  // every connection drops
        S3Store s(config("http://127.0.0.1:" + std::to_string(proxy.port())), bucket(), retry);
        Counting counting;
        s.set_counters(counting.counters());
        TempDir dst;
        const TransferReport r = s.download({{p + "obj", dst.path() / "obj", 1 << 20, ""}}, {});
        REQUIRE(r.failures.size() == 1);
        CHECK(r.failures[0].error.find("after 4 attempts") != std::string::npos);
        CHECK(counting.requests["GetObject"] == 4);
        CHECK(fs::is_empty(dst.path()));
    }
    direct.remove(p + "obj");
}

TEST_CASE(
    "a stalled server (radosgw stopped with SIGSTOP): bounded retries, clear error, no partial "
    "file") {
    const pid_t rgw = std::stoi(require_env("MLWM_TEST_S3_RGW_PID"));
    S3Store direct(config(), bucket());
    const std::string p = unique_prefix("stall");
    direct.put_string(p + "obj", random_bytes(256 << 10, 3));
    S3Tuning tuning;
    tuning.stall_timeout = 1s;
    RetryPolicy retry{2, 10ms, 50ms};
    S3Store s(config(), bucket(), retry, tuning);
    TempDir dst;
    REQUIRE(::kill(rgw, SIGSTOP) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    TransferReport r;
    try {
        r = s.download({{p + "obj", dst.path() / "obj", 256 << 10, ""}}, {});
    } catch (...) {
        ::kill(rgw, SIGCONT);
        throw;
    }
    ::kill(rgw, SIGCONT);
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE(r.failures.size() == 1);
    CAPTURE(r.failures[0].error);
    CHECK(r.failures[0].error.find("after 2 attempts") != std::string::npos);
    CHECK(took < 10s);
    CHECK(fs::is_empty(dst.path()));
    // the server is back: the same download works
    r = s.download({{p + "obj", dst.path() / "obj", 256 << 10, ""}}, {});
    CHECK(r.ok());
    direct.remove(p + "obj");
}

TEST_CASE("a transfer's time limit: what is not done by then fails, nothing is left half-written") {
    const pid_t rgw = std::stoi(require_env("MLWM_TEST_S3_RGW_PID"));
    S3Store direct(config(), bucket());
    const std::string p = unique_prefix("deadline");
    for (int i = 0; i < 3; ++i) direct.put_string(p + "obj" + std::to_string(i), "x");
    S3Store s(config(), bucket());
    TempDir dst;
    std::vector<TransferItem> items;
    for (int i = 0; i < 3; ++i)
        items.push_back(
            {p + "obj" + std::to_string(i), dst.path() / ("obj" + std::to_string(i)), 1, ""});
    // the server stops answering; the limit (2 s) passes long before the stall timeout (30 s)
    REQUIRE(::kill(rgw, SIGSTOP) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    TransferReport r;
    try {
        r = s.download(items, {.concurrency = 2, .deadline = t0 + 2s});
    } catch (...) {
        ::kill(rgw, SIGCONT);
        throw;
    }
    ::kill(rgw, SIGCONT);
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(took < 5s);
    REQUIRE(r.failures.size() == 3);  // the two in flight and the one not sent
    for (const auto& f : r.failures)
        CHECK(f.error.find("not done when the transfer's time limit passed") != std::string::npos);
    CHECK(fs::is_empty(dst.path()));
    // an upload whose limit has passed sends nothing
    TempDir src;
    write_file(src.path() / "f", "y");
    r = s.upload({{p + "up", src.path() / "f", 1, ""}},
                 {.deadline = std::chrono::steady_clock::now() - 1s});
    REQUIRE(r.failures.size() == 1);
    CHECK_FALSE(direct.head(p + "up").has_value());
    for (int i = 0; i < 3; ++i) direct.remove(p + "obj" + std::to_string(i));
}

TEST_CASE("a failed multipart upload is aborted: no upload lingers") {
    S3Tuning tuning;
    tuning.multipart_threshold = 6 << 20;
    tuning.part_size = 5 << 20;
    S3Store s(config(), bucket(), {2, 10ms, 50ms}, tuning);
    Counting counting;
    s.set_counters(counting.counters());
    TempDir src;
    const fs::path file = src.path() / "big";
    write_file(file, random_bytes(11 << 20, 5));
    const std::string key = unique_prefix("abort") + "big";
    // the file shrinks while its parts are being sent: the parts fail
    bool cut = false;
    const TransferReport r =
        s.upload({{key, file, 11 << 20, ""}},
                 {.concurrency = 1, .progress = [&](std::uint64_t, std::size_t) {
                      if (!cut) fs::resize_file(file, 1 << 20);
                      cut = true;
                  }});
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].error.find("UploadPart") != std::string::npos);
    CHECK(counting.requests["AbortMultipartUpload"] == 1);
    CHECK_FALSE(s.head(key).has_value());
    const std::string uploads =
        shell("aws --endpoint-url " + endpoint() + " s3api list-multipart-uploads --bucket " +
              bucket() + " --prefix '" + key + "' --output json");
    CHECK(uploads.find("UploadId") == std::string::npos);
}

TEST_SUITE_END();
