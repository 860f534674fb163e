#include "storage/s3_store.hpp"

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/curl_driver.hpp"
#include "storage/s3_response.hpp"
#include "storage/s3_xml.hpp"
#include "storage/sigv4.hpp"
#include "util/curl_global.hpp"
#include "util/hash.hpp"
#include "util/http_header.hpp"
#include "util/time.hpp"

namespace mlwm::storage {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct S3Store::Request {
    std::string operation;  // for messages and metrics: GetObject, PutObject, ...
    std::string method;
    std::string key;  // "" = the bucket itself
    Params query;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    // request body: memory, or a file range
    std::string body;
    bool has_body = false;
    bool sign_body = true;  // real SHA-256 of a memory body; files go UNSIGNED-PAYLOAD
    int in_fd = -1;
    std::uint64_t in_offset = 0, in_size = 0, in_pos = 0;
    bool hash_in = false;  // MD5 of the body as it is sent (ETag check)
    util::Md5 in_md5;
    std::string in_md5_hex;
    // response body: memory (response), or a file at an offset
    int out_fd = -1;
    std::uint64_t out_offset = 0, out_written = 0;
    std::string local_path;  // the file in_fd or out_fd belongs to (for errors)
    bool hash_out = false;
    util::Md5 out_md5;
    std::string out_md5_hex;
    // result
    std::vector<long> ok_statuses{200};
    long status = 0;
    std::string response;
    std::map<std::string, std::string> rheaders;  // lower-case names
    CURLcode curl_code = CURLE_OK;
    char errbuf[CURL_ERROR_SIZE]{};
    int attempt = 0;
    Clock::time_point not_before{};
    bool ok = false;
    std::string error, s3_code;
    std::string extra_check_error;  // set by `check` to force a retry
    // a local file's read or write failed (curl then only says "Failure
    // writing output to destination"): what and why, with errno's text
    std::string local_error;
    std::function<bool(Request&)> check;  // after an ok status: data verified?
    std::function<void(Request&)> on_done;
    std::function<void(std::uint64_t)> on_bytes;
    // Called once, just before the first attempt starts: opens the request's
    // file, so a transfer of 100 000 objects holds only as many open files as
    // requests in flight. Returns an error text to fail the request unsent.
    std::function<std::string(Request&)> prepare;
    curl_slist* header_list = nullptr;
    const S3Store* store = nullptr;

    bool out_to_file() const { return out_fd >= 0 && status >= 200 && status < 300; }
    void reset_for_retry() {
        in_pos = 0;
        in_md5 = util::Md5();
        out_written = 0;
        out_md5 = util::Md5();
        status = 0;
        response.clear();
        rheaders.clear();
        curl_code = CURLE_OK;
        errbuf[0] = '\0';
        extra_check_error.clear();
        local_error.clear();
    }
};

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_md5_etag(const std::string& etag) {
    if (etag.size() != 32) return false;
    for (char c : etag)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

std::string unquote(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* r = static_cast<S3Store::Request*>(user);
    util::HeaderLine h = util::parse_header_line({data, size * n});
    if (h.kind == util::HeaderLine::Kind::status) {  // after a 1xx head comes another
        r->rheaders.clear();
        r->status = h.status;
    } else if (h.kind == util::HeaderLine::Kind::field) {
        r->rheaders[std::move(h.name)] = std::move(h.value);
    }
    return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    auto* r = static_cast<S3Store::Request*>(user);
    const std::size_t len = size * n;
    if (!r->out_to_file()) {
        r->response.append(data, len);
        return len;
    }
    std::size_t done = 0;
    while (done < len) {
        const ssize_t w = ::pwrite(r->out_fd, data + done, len - done,
                                   static_cast<off_t>(r->out_offset + r->out_written + done));
        if (w < 0) {
            if (errno == EINTR) continue;
            r->local_error = "writing " + r->local_path + " failed: " + std::strerror(errno);
            return 0;  // CURLE_WRITE_ERROR: not retried
        }
        done += static_cast<std::size_t>(w);
    }
    if (r->hash_out) r->out_md5.update(data, len);
    r->out_written += len;
    if (r->on_bytes) r->on_bytes(len);
    return len;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
    auto* r = static_cast<S3Store::Request*>(user);
    const std::size_t want = std::min<std::uint64_t>(size * n, r->in_size - r->in_pos);
    if (want == 0) return 0;
    std::size_t got = 0;
    if (r->in_fd >= 0) {
        const ssize_t rd =
            ::pread(r->in_fd, buffer, want, static_cast<off_t>(r->in_offset + r->in_pos));
        if (rd <= 0) {
            r->local_error = "reading " + r->local_path +
                             " failed: " + (rd == 0 ? "it shrank" : std::strerror(errno));
            return CURL_READFUNC_ABORT;
        }
        got = static_cast<std::size_t>(rd);
    } else {
        std::memcpy(buffer, r->body.data() + r->in_pos, want);
        got = want;
    }
    if (r->hash_in) r->in_md5.update(buffer, got);
    r->in_pos += got;
    if (r->on_bytes && r->in_fd >= 0) r->on_bytes(got);
    return got;
}

int on_seek(void* user, curl_off_t offset, int origin) {
    auto* r = static_cast<S3Store::Request*>(user);
    if (origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
    r->in_pos = 0;
    r->in_md5 = util::Md5();
    return CURL_SEEKFUNC_OK;
}

std::string object_url_path(const std::string& bucket, const std::string& key,
                            bool virtual_hosted) {
    const std::string k = "/" + uri_encode(key, false);
    return virtual_hosted ? k : "/" + bucket + (key.empty() ? "" : k);
}

}  // namespace

S3Store::S3Store(S3Config config, std::string bucket, RetryPolicy retry, S3Tuning tuning)
    : config_(std::move(config)), bucket_(std::move(bucket)), retry_(retry), tuning_(tuning) {
    util::curl_global_once();
    // split the endpoint into scheme and host[:port]
    const auto sep = config_.endpoint.find("://");
    if (sep == std::string::npos || (config_.endpoint.compare(0, sep, "http") != 0 &&
                                     config_.endpoint.compare(0, sep, "https") != 0))
        throw StorageError("S3 endpoint '" + config_.endpoint +
                           "': expected http://HOST[:PORT] or https://HOST[:PORT]");
    const std::string scheme = config_.endpoint.substr(0, sep);
    std::string host = config_.endpoint.substr(sep + 3);
    if (const auto slash = host.find('/'); slash != std::string::npos) host.resize(slash);
    if (host.empty()) throw StorageError("S3 endpoint '" + config_.endpoint + "': no host");
    // the default port is not part of the signed Host header
    if ((scheme == "http" && host.ends_with(":80")) ||
        (scheme == "https" && host.ends_with(":443")))
        host.resize(host.rfind(':'));
    host_ = config_.virtual_hosted ? bucket_ + "." + host : host;
    scheme_host_ = scheme + "://" + host_;
    multi_ = curl_multi_init();
    driver_ = std::make_unique<CurlDriver>(multi_);
}

S3Store::~S3Store() {
    driver_.reset();  // before the multi handle it drives
    for (void* e : idle_easy_) curl_easy_cleanup(static_cast<CURL*>(e));
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

std::shared_ptr<S3Store::Request> S3Store::make(std::string operation, std::string method,
                                                std::string key) {
    auto r = std::make_shared<Request>();
    r->operation = std::move(operation);
    r->method = std::move(method);
    r->key = std::move(key);
    r->store = this;
    return r;
}

void S3Store::start(void* easy_ptr, Request& r) {
    CURL* easy = static_cast<CURL*>(easy_ptr);
    const std::string path = object_url_path(bucket_, r.key, config_.virtual_hosted);
    const std::string query = canonical_query(r.query);
    const std::string url = scheme_host_ + path + (query.empty() ? "" : "?" + query);
    const std::string amz_date = util::format_utc_compact(std::chrono::system_clock::now());
    const bool file_body = r.in_fd >= 0;
    const std::string payload_hash = file_body || !r.sign_body ? std::string(kUnsignedPayload)
                                     : r.has_body              ? util::sha256_hex(r.body)
                                                               : std::string(kEmptySha256);
    SignInput in{
        r.method,
        path,
        r.query,
        {{"host", host_}, {"x-amz-date", amz_date}, {"x-amz-content-sha256", payload_hash}},
        payload_hash};
    if (!config_.credentials.session_token.empty())
        in.headers.emplace_back("x-amz-security-token", config_.credentials.session_token);
    for (const auto& [k, v] : r.headers) {
        const std::string lk = lower(k);
        if (lk.starts_with("x-amz-") || lk == "content-md5" || lk == "range")
            in.headers.emplace_back(lk, v);
    }
    curl_slist* list = nullptr;
    for (const auto& [k, v] : in.headers)
        if (k != "host") list = curl_slist_append(list, (k + ": " + v).c_str());
    for (const auto& [k, v] : r.headers) {
        const std::string lk = lower(k);
        if (!(lk.starts_with("x-amz-") || lk == "content-md5" || lk == "range"))
            list = curl_slist_append(list, (k + ": " + v).c_str());
    }
    if (!config_.credentials.empty())
        list = curl_slist_append(
            list, ("Authorization: " +
                   authorization(in, config_.credentials, config_.region, "s3", amz_date))
                      .c_str());
    list = curl_slist_append(list, "Expect:");
    r.header_list = list;

    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_PATH_AS_IS,
                     1L);  // keys may hold "..": never normalise them away
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &r);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r.errbuf);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(tuning_.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(tuning_.stall_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    // fewer recv/pwrite calls; under malloc's mmap threshold, as it is allocated per request
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 64L * 1024);
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, 64L * 1024);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    if (r.method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (r.method == "PUT" || (r.method == "POST" && (r.has_body || file_body))) {
        r.in_size = file_body ? r.in_size : r.body.size();
        if (r.method == "PUT") {
            curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.in_size));
        } else {
            curl_easy_setopt(easy, CURLOPT_POST, 1L);
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.in_size));
        }
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(easy, CURLOPT_READDATA, &r);
        curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(easy, CURLOPT_SEEKDATA, &r);
    } else if (r.method == "POST") {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    } else if (r.method != "GET") {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }
}

void S3Store::execute(std::vector<std::shared_ptr<Request>> requests, std::size_t window,
                      Clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    window = std::max<std::size_t>(window, 1);
    CURLM* multi = static_cast<CURLM*>(multi_);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(window + 4));
    std::deque<std::shared_ptr<Request>> ready(requests.begin(), requests.end());
    auto later = [](const std::shared_ptr<Request>& a, const std::shared_ptr<Request>& b) {
        return a->not_before > b->not_before;
    };
    std::priority_queue<std::shared_ptr<Request>, std::vector<std::shared_ptr<Request>>,
                        decltype(later)>
        delayed(later);
    std::unordered_map<Request*, std::pair<CURL*, std::shared_ptr<Request>>> active;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);

    auto finish = [&](const std::shared_ptr<Request>& r) {
        const bool transport = r->curl_code != CURLE_OK;
        if (counters_.on_request) counters_.on_request(r->operation, transport ? 0 : r->status);
        if (counters_.on_bytes && !transport) {
            if (r->in_pos > 0 || !r->body.empty())  // sent: a file range or a memory body
                counters_.on_bytes(true, r->in_fd >= 0 ? r->in_pos : r->body.size());
            const std::uint64_t got = r->out_fd >= 0 ? r->out_written : r->response.size();
            if (got > 0) counters_.on_bytes(false, got);
        }
        const AttemptVerdict v = classify_attempt(
            {.transport_error = transport,
             // mlwm's own side (writing the file, reading the body): not the network's fault
             .local_io_error = r->curl_code == CURLE_WRITE_ERROR ||
                               r->curl_code == CURLE_ABORTED_BY_CALLBACK ||
                               r->curl_code == CURLE_READ_ERROR,
             .status = r->status,
             .ok_statuses = &r->ok_statuses,
             .data_check_failed = !transport && r->check && !r->check(*r),
             .response = r->response});
        if (!v.s3_code.empty()) r->s3_code = v.s3_code;
        if (v.kind == AttemptVerdict::Kind::ok) {
            r->ok = true;
        } else if (v.kind == AttemptVerdict::Kind::retryable &&
                   r->attempt + 1 < retry_.max_attempts) {
            r->not_before = Clock::now() + backoff(retry_, r->attempt, uniform(rng_));
            ++r->attempt;
            r->reset_for_retry();
            delayed.push(r);
            return;
        } else {
            r->error = failure_message(
                {.operation = r->operation,
                 .bucket = bucket_,
                 .key = r->key,
                 .endpoint = config_.endpoint,
                 .local_error = r->local_error,
                 .transport_error = transport,
                 .transport_text = r->errbuf[0] ? r->errbuf : curl_easy_strerror(r->curl_code),
                 .data_error = r->extra_check_error,
                 .status = r->status,
                 .response = r->response,
                 .attempts = r->attempt + 1,
                 .access_key = config_.credentials.access_key,
                 .credentials_source = config_.credentials_source,
                 .region = config_.region});
        }
        if (r->on_done) r->on_done(*r);
    };

    // on_done callbacks may add requests (multipart steps): they go to `spawned`
    std::vector<std::shared_ptr<Request>> spawned;
    spawn_ = &spawned;
    // past the deadline: every request not done fails, unsent or cut off
    auto expire = [&](const std::shared_ptr<Request>& r) {
        r->ok = false;
        r->error = "S3 " + r->operation + " s3://" + bucket_ + "/" + r->key +
                   ": not done when the transfer's time limit passed";
        if (r->on_done) r->on_done(*r);
    };
    auto expire_all = [&] {
        for (auto& [raw, pair] : active) {
            curl_multi_remove_handle(multi, pair.first);
            curl_slist_free_all(pair.second->header_list);
            pair.second->header_list = nullptr;
            curl_easy_reset(pair.first);
            idle_easy_.push_back(pair.first);
        }
        std::vector<std::shared_ptr<Request>> doomed;
        for (auto& [raw, pair] : active) doomed.push_back(pair.second);
        active.clear();
        for (auto& r : ready) doomed.push_back(r);
        ready.clear();
        while (!delayed.empty()) {
            doomed.push_back(delayed.top());
            delayed.pop();
        }
        for (auto& r : doomed) expire(r);
    };
    while (!ready.empty() || !delayed.empty() || !active.empty()) {
        const auto now = Clock::now();
        if (now > deadline) {
            expire_all();
            deadline = Clock::time_point::max();  // the aborts below run to the end
            // what their on_done spawned: only multipart aborts still go out
            while (!spawned.empty()) {
                auto batch = std::move(spawned);
                spawned.clear();
                for (auto& s : batch) {
                    if (s->operation == "AbortMultipartUpload")
                        ready.push_back(std::move(s));
                    else
                        expire(s);
                }
            }
            continue;
        }
        while (!delayed.empty() && delayed.top()->not_before <= now) {
            ready.push_back(delayed.top());
            delayed.pop();
        }
        while (active.size() < window && !ready.empty()) {
            auto r = ready.front();
            ready.pop_front();
            if (r->prepare) {
                const auto prepare = std::move(r->prepare);
                r->prepare = nullptr;
                if (std::string err = prepare(*r); !err.empty()) {
                    r->error =
                        "S3 " + r->operation + " s3://" + bucket_ + "/" + r->key + ": " + err;
                    if (r->on_done) r->on_done(*r);
                    continue;
                }
            }
            CURL* easy;
            if (!idle_easy_.empty()) {
                easy = static_cast<CURL*>(idle_easy_.back());
                idle_easy_.pop_back();
            } else {
                easy = curl_easy_init();
            }
            start(easy, *r);
            curl_multi_add_handle(multi, easy);
            active.emplace(r.get(), std::make_pair(easy, r));
        }
        driver_->act_on_due();  // the transfers just added start here
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* easy = msg->easy_handle;
            Request* raw = nullptr;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
            raw->curl_code = msg->data.result;
            auto it = active.find(raw);
            auto r = it->second.second;
            active.erase(it);
            curl_multi_remove_handle(multi, easy);
            curl_slist_free_all(r->header_list);
            r->header_list = nullptr;
            curl_easy_reset(easy);
            idle_easy_.push_back(easy);
            finish(r);
        }
        for (auto& s : spawned) ready.push_back(std::move(s));
        spawned.clear();
        if (ready.empty() && active.empty() && delayed.empty()) break;
        int timeout_ms = 1000;
        if (!delayed.empty() && active.size() < window) {
            const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                delayed.top()->not_before - Clock::now());
            timeout_ms = static_cast<int>(std::clamp<long long>(wait.count(), 0, 1000));
        }
        if (!ready.empty() && active.size() < window) timeout_ms = 0;
        if (!active.empty() || timeout_ms > 0) driver_->wait(std::chrono::milliseconds(timeout_ms));
    }
    spawn_ = nullptr;
}

S3Store::Request& S3Store::run_one(const std::shared_ptr<Request>& r) {
    execute({r}, 1);
    if (!r->ok) throw StorageError(r->error, r->s3_code, r->status);
    return *r;
}

ListResult S3Store::list(const ListOptions& o) {
    if (!o.delimiter.empty() && o.delimiter != "/")
        throw StorageError("list s3://" + bucket_ + "/" + o.prefix +
                           ": only the delimiter '/' is supported");
    ListResult out;
    std::string token;
    while (true) {
        auto r = make("ListObjectsV2", "GET", "");
        r->query = {{"list-type", "2"}, {"encoding-type", "url"}};
        if (!o.prefix.empty()) r->query.emplace_back("prefix", o.prefix);
        if (!o.delimiter.empty()) r->query.emplace_back("delimiter", o.delimiter);
        if (!o.start_after.empty() && token.empty())
            r->query.emplace_back("start-after", o.start_after);
        if (!token.empty()) r->query.emplace_back("continuation-token", token);
        const std::size_t have = out.objects.size() + out.common_prefixes.size();
        if (o.max_keys > 0)
            r->query.emplace_back("max-keys",
                                  std::to_string(std::min<std::size_t>(1000, o.max_keys - have)));
        run_one(r);
        ++out.requests;
        ListPage page = parse_list_page(r->response);
        for (auto& obj : page.result.objects) out.objects.push_back(std::move(obj));
        for (auto& p : page.result.common_prefixes) out.common_prefixes.push_back(std::move(p));
        const std::size_t now_have = out.objects.size() + out.common_prefixes.size();
        if (!page.truncated || page.next_continuation_token.empty() ||
            (o.max_keys > 0 && now_have >= o.max_keys))
            break;
        token = page.next_continuation_token;
    }
    return out;
}

std::optional<ObjectInfo> S3Store::head(const std::string& key) {
    auto r = make("HeadObject", "HEAD", key);
    r->ok_statuses = {200, 404};
    run_one(r);
    if (r->status == 404) return std::nullopt;
    ObjectInfo info;
    info.key = key;
    info.size = std::strtoull(r->rheaders["content-length"].c_str(), nullptr, 10);
    info.etag = unquote(r->rheaders["etag"]);
    info.last_modified = r->rheaders["last-modified"];
    return info;
}

std::string S3Store::get_string(const std::string& key) {
    auto r = make("GetObject", "GET", key);
    return std::move(run_one(r).response);
}

PutOutcome S3Store::put_string(const std::string& key, const std::string& data,
                               const PutOptions& o) {
    auto r = make("PutObject", "PUT", key);
    r->body = data;
    r->has_body = true;
    util::Md5 md5;
    md5.update(data);
    r->headers = {{"Content-Type", o.content_type},
                  {"Content-MD5", util::base64(md5.raw_digest())}};
    if (o.if_none_match) {
        r->headers.emplace_back("If-None-Match", "*");
        r->ok_statuses = {200, 412};  // 412: it exists; never retried
    }
    run_one(r);
    return r->status == 412 ? PutOutcome::already_exists : PutOutcome::created;
}

void S3Store::remove(const std::string& key) {
    auto r = make("DeleteObject", "DELETE", key);
    r->ok_statuses = {204, 200};
    run_one(r);
}

void S3Store::remove_many(const std::vector<std::string>& keys) {
    std::vector<TransferFailure> failures;
    for (std::size_t i = 0; i < keys.size(); i += 1000) {
        const std::vector<std::string> chunk(
            keys.begin() + static_cast<std::ptrdiff_t>(i),
            keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + 1000)));
        auto r = make("DeleteObjects", "POST", "");
        r->query = {{"delete", ""}};
        r->body = delete_objects_body(chunk);
        r->has_body = true;
        util::Md5 md5;
        md5.update(r->body);
        r->headers = {{"Content-Type", "application/xml"},
                      {"Content-MD5", util::base64(md5.raw_digest())}};
        run_one(r);
        for (auto& f : parse_delete_errors(r->response)) failures.push_back(std::move(f));
    }
    if (!failures.empty())
        throw StorageError("S3 DeleteObjects s3://" + bucket_ + ": " +
                           std::to_string(failures.size()) + " key(s) not deleted, first '" +
                           failures.front().key + "': " + failures.front().error);
}

namespace {

// A temporary name beside the target: renamed into place once verified.
fs::path temp_path_for(const fs::path& target) {
    static std::atomic<unsigned> counter{0};
    return target.parent_path() / ("." + target.filename().string() + ".mlwm-partial-" +
                                   std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

std::string file_md5_hex(int fd, std::uint64_t size) {
    util::Md5 md5;
    std::vector<char> buf(1 << 20);
    for (std::uint64_t off = 0; off < size;) {
        const ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), size - off),
                                  static_cast<off_t>(off));
        if (n <= 0) return "";
        md5.update(buf.data(), static_cast<std::size_t>(n));
        off += static_cast<std::uint64_t>(n);
    }
    return md5.hex_digest();
}

}  // namespace

TransferReport S3Store::download(const std::vector<TransferItem>& items,
                                 const TransferOptions& opts) {
    struct State {
        TransferItem item;
        fs::path tmp;
        int fd = -1;
        std::size_t parts_left = 0;
        std::string error;
    };
    TransferReport report;
    std::vector<std::shared_ptr<Request>> requests;
    std::vector<std::shared_ptr<State>> states;
    auto progress = [&opts](std::uint64_t bytes) {
        if (opts.progress) opts.progress(bytes, 0);
    };
    auto conclude = [&report, &opts](State& st) {
        if (st.error.empty() && st.fd < 0) st.error = "never opened";
        if (st.error.empty()) {
            // verify: size, and the MD5 where the ETag is one and was not checked while streaming
            struct stat sb {};
            if (::fstat(st.fd, &sb) != 0 || static_cast<std::uint64_t>(sb.st_size) != st.item.size)
                st.error = "size " + std::to_string(sb.st_size) + " on disk, expected " +
                           std::to_string(st.item.size);
        }
        // (a single GET checked the MD5 while streaming and cleared the etag)
        if (st.error.empty() && is_md5_etag(st.item.etag)) {
            const std::string md5 = file_md5_hex(st.fd, st.item.size);
            if (md5 != st.item.etag)
                st.error = "MD5 " + md5 + " does not match the ETag " + st.item.etag;
        }
        if (st.fd >= 0) ::close(st.fd);
        st.fd = -1;
        std::error_code ec;
        if (st.error.empty()) {
            fs::rename(st.tmp, st.item.path, ec);
            if (ec) st.error = "cannot rename into place: " + ec.message();
        }
        if (!st.error.empty()) {
            fs::remove(st.tmp, ec);
            report.failures.push_back({st.item.key, st.error});
            return;
        }
        ++report.objects;
        report.bytes += st.item.size;
        if (opts.progress) opts.progress(0, 1);
    };

    std::set<fs::path> made;  // folders created (a store has thousands of objects in few folders)
    for (const auto& item : items) {
        auto st = std::make_shared<State>();
        st->item = item;
        std::error_code ec;
        if (made.insert(item.path.parent_path()).second)
            fs::create_directories(item.path.parent_path(), ec);
        st->tmp = temp_path_for(item.path);
        states.push_back(st);
        const bool ranged = item.size > tuning_.ranged_threshold;
        const std::uint64_t part =
            ranged ? tuning_.range_size : std::max<std::uint64_t>(item.size, 1);
        const std::size_t nparts =
            ranged ? static_cast<std::size_t>((item.size + part - 1) / part) : 1;
        st->parts_left = nparts;
        for (std::size_t i = 0; i < nparts; ++i) {
            auto r = make("GetObject", "GET", item.key);
            r->prepare = [st](Request& q) -> std::string {
                if (st->fd < 0)  // the first part to start opens the file
                    st->fd = ::open(st->tmp.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0644);
                if (st->fd < 0)
                    return "cannot create " + st->tmp.string() + ": " + std::strerror(errno);
                q.out_fd = st->fd;
                q.local_path = st->tmp.string();
                return "";
            };
            r->on_bytes = progress;
            const std::uint64_t begin = i * part;
            const std::uint64_t len = ranged ? std::min(part, item.size - begin) : item.size;
            r->out_offset = begin;
            if (ranged) {
                r->headers.emplace_back("Range", "bytes=" + std::to_string(begin) + "-" +
                                                     std::to_string(begin + len - 1));
                r->ok_statuses = {206};
            } else {
                r->hash_out = is_md5_etag(item.etag);
            }
            const std::string etag = item.etag;
            r->check = [len, ranged, etag](Request& q) {
                if (q.out_written != len) {
                    q.extra_check_error = "received " + std::to_string(q.out_written) +
                                          " bytes, expected " + std::to_string(len);
                    return false;
                }
                const std::string got_etag = unquote(q.rheaders["etag"]);
                if (!etag.empty() && !got_etag.empty() && got_etag != etag) {
                    q.extra_check_error = "the object changed during the transfer (ETag " +
                                          got_etag + ", listed " + etag + ")";
                    return false;
                }
                if (!ranged && q.hash_out) {
                    const std::string md5 = q.out_md5.hex_digest();
                    if (md5 != etag) {
                        q.extra_check_error =
                            "MD5 " + md5 + " of the data does not match the ETag " + etag;
                        return false;
                    }
                }
                return true;
            };
            r->on_done = [st, conclude, ranged](Request& q) {
                if (!q.ok && st->error.empty()) st->error = q.error;
                if (!ranged) st->item.etag.clear();  // checked while streaming (or not an MD5)
                if (--st->parts_left == 0) conclude(*st);
            };
            requests.push_back(std::move(r));
        }
    }
    execute(std::move(requests), opts.concurrency, opts.deadline);
    return report;
}

TransferReport S3Store::upload(const std::vector<TransferItem>& items,
                               const TransferOptions& opts) {
    struct State {
        TransferItem item;
        int fd = -1;
        std::uint64_t size = 0;
        std::string upload_id;
        std::vector<CompletedPart> parts;
        std::size_t parts_left = 0;
        std::string error;
    };
    TransferReport report;
    std::vector<std::shared_ptr<Request>> requests;
    auto progress = [&opts](std::uint64_t bytes) {
        if (opts.progress) opts.progress(bytes, 0);
    };
    auto record = [&report, &opts](State& st) {
        if (st.fd >= 0) ::close(st.fd);
        st.fd = -1;
        if (!st.error.empty()) {
            report.failures.push_back({st.item.key, st.error});
            return;
        }
        ++report.objects;
        report.bytes += st.size;
        if (opts.progress) opts.progress(0, 1);
    };
    // The ETag of a single-part PUT is the MD5 of what was sent.
    auto etag_matches = [](Request& q) {
        q.in_md5_hex = q.in_md5.hex_digest();
        const std::string etag = unquote(q.rheaders["etag"]);
        if (is_md5_etag(etag) && etag != q.in_md5_hex) {
            q.extra_check_error = "the ETag " + etag + " does not match the MD5 " + q.in_md5_hex +
                                  " of the data sent";
            return false;
        }
        return true;
    };

    for (const auto& item : items) {
        auto st = std::make_shared<State>();
        st->item = item;
        st->size = item.size;
        // opened when its first request starts; the size must still be the planned one
        auto open_file = [st](Request& q) -> std::string {
            st->fd = ::open(st->item.path.c_str(), O_RDONLY | O_CLOEXEC);
            struct stat sb {};
            if (st->fd < 0 || ::fstat(st->fd, &sb) != 0)
                return "cannot read " + st->item.path.string() + ": " + std::strerror(errno);
            if (static_cast<std::uint64_t>(sb.st_size) != st->size)
                return st->item.path.string() + " changed during the transfer (" +
                       std::to_string(st->size) + " bytes when planned, " +
                       std::to_string(sb.st_size) + " now)";
            q.in_fd = st->fd;  // a multipart create sends no body: its parts use st->fd
            q.local_path = st->item.path.string();
            return "";
        };
        if (st->size <= tuning_.multipart_threshold) {
            auto r = make("PutObject", "PUT", item.key);
            r->prepare = open_file;
            r->in_size = st->size;
            r->hash_in = true;
            r->on_bytes = progress;
            r->headers = {{"Content-Type", "application/octet-stream"}};
            r->check = etag_matches;
            r->on_done = [st, record](Request& q) {
                if (!q.ok) st->error = q.error;
                record(*st);
            };
            requests.push_back(std::move(r));
            continue;
        }
        // multipart: create, parts in parallel, complete; abort on any failure
        auto create = make("CreateMultipartUpload", "POST", item.key);
        create->prepare = [open_file](Request& q) {
            std::string err = open_file(q);
            q.in_fd = -1;
            return err;
        };
        create->query = {{"uploads", ""}};
        create->headers = {{"Content-Type", "application/octet-stream"}};
        create->on_done = [this, st, record, progress, etag_matches](Request& q) {
            if (!q.ok) {
                st->error = q.error;
                return record(*st);
            }
            try {
                st->upload_id = parse_upload_id(q.response);
            } catch (const StorageError& e) {
                st->error = e.what();
                return record(*st);
            }
            const std::uint64_t part = tuning_.part_size;
            const std::size_t nparts = static_cast<std::size_t>((st->size + part - 1) / part);
            st->parts.resize(nparts);
            st->parts_left = nparts;
            for (std::size_t i = 0; i < nparts; ++i) {
                auto p = make("UploadPart", "PUT", st->item.key);
                p->query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", st->upload_id}};
                p->in_fd = st->fd;
                p->local_path = st->item.path.string();
                p->in_offset = i * part;
                p->in_size = std::min(part, st->size - i * part);
                p->hash_in = true;
                p->on_bytes = progress;
                p->check = etag_matches;
                p->on_done = [this, st, record, i](Request& pq) {
                    if (!pq.ok && st->error.empty()) st->error = pq.error;
                    st->parts[i] = {static_cast<int>(i + 1), unquote(pq.rheaders["etag"])};
                    if (--st->parts_left > 0) return;
                    if (!st->error.empty()) {  // abort, so no parts linger
                        auto abort = make("AbortMultipartUpload", "DELETE", st->item.key);
                        abort->query = {{"uploadId", st->upload_id}};
                        abort->ok_statuses = {204, 200, 404};
                        abort->on_done = [st, record](Request&) { record(*st); };
                        return spawn(std::move(abort));
                    }
                    auto complete = make("CompleteMultipartUpload", "POST", st->item.key);
                    complete->query = {{"uploadId", st->upload_id}};
                    complete->body = complete_multipart_body(st->parts);
                    complete->has_body = true;
                    complete->headers = {{"Content-Type", "application/xml"}};
                    complete->check = [](Request& cq) {  // 200 with an <Error> inside is a failure
                        if (auto doc = parse_complete_error(cq.response)) {
                            cq.extra_check_error =
                                "HTTP 200 with error " + doc->code + ": " + doc->message;
                            return false;
                        }
                        return true;
                    };
                    complete->on_done = [this, st, record](Request& cq) {
                        if (cq.ok) return record(*st);
                        st->error = cq.error;
                        auto abort = make("AbortMultipartUpload", "DELETE", st->item.key);
                        abort->query = {{"uploadId", st->upload_id}};
                        abort->ok_statuses = {204, 200, 404};
                        abort->on_done = [st, record](Request&) { record(*st); };
                        spawn(std::move(abort));
                    };
                    spawn(std::move(complete));
                };
                spawn(std::move(p));
            }
        };
        requests.push_back(std::move(create));
    }
    execute(std::move(requests), opts.concurrency, opts.deadline);
    return report;
}

}  // namespace mlwm::storage
