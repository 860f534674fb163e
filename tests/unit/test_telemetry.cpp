// Logs through spdlog (the JSON and text lines), and the log event catalogue
// against its documentation.
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "telemetry/log.hpp"
#include "telemetry/log_events.hpp"

using namespace mlwm::telemetry;

namespace {
std::string read(const std::string& path) {
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "cannot read " << path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

TEST_CASE("logs: one JSON object per line, ts and level first, context where there is one") {
    std::ostringstream out;
    Logger log(Logger::Format::json, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    log.warn(events::kRunFailed, "exit 1 \"quoted\" {braces} {}",
             {"m/2023-10-01T1200Z/member0", "m", "2023-10-01T12:00:00Z"});
    log.log(Level::info, events::kHttpListening, "port", {}, {{"port", "9187"}});
    std::istringstream lines(out.str());
    std::string first, second, rest;
    REQUIRE(std::getline(lines, first));
    REQUIRE(std::getline(lines, second));
    CHECK_FALSE(std::getline(lines, rest));
    const auto a = nlohmann::ordered_json::parse(first);
    std::vector<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"ts", "level", "event", "msg", "run_id", "model",
                                           "analysis_time"});
    CHECK(a["level"] == "warning");
    CHECK(a["event"] == "run.failed");
    CHECK(a["msg"] == "exit 1 \"quoted\" {braces} {}");  // not a format string
    CHECK(std::regex_match(a["ts"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    const auto b = nlohmann::ordered_json::parse(second);
    CHECK(b["level"] == "info");
    CHECK(b["port"] == "9187");
    CHECK_FALSE(b.contains("run_id"));  // no empty context fields
}

TEST_CASE("logs: the text format for people") {
    std::ostringstream out;
    Logger log(Logger::Format::text, std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    log.error(events::kRunFailed, "boom", {"m/t/member0", "m", "t"});
    CHECK(std::regex_match(
        out.str(),
        std::regex(
            R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error run\.failed: boom \[m/t/member0\]\n)")));
}

TEST_CASE("the log event catalogue: code and docs/log-events.md list the same events") {
    // the ids in the header (every constant), in kAll, and in the docs' table
    const std::string header = read(MLWM_SOURCE_DIR "/core/telemetry/log_events.hpp");
    std::set<std::string> declared, listed(std::begin(events::kAll), std::end(events::kAll));
    const std::regex decl(R"re(inline constexpr const char\* k\w+ = "([a-z_.]+)";)re");
    for (auto it = std::sregex_iterator(header.begin(), header.end(), decl);
         it != std::sregex_iterator(); ++it)
        declared.insert((*it)[1]);
    CHECK(declared.size() > 20);
    CHECK(declared == listed);
    std::set<std::string> documented;
    std::istringstream doc(read(MLWM_SOURCE_DIR "/docs/log-events.md"));
    const std::regex id("`([a-z_]+\\.[a-z_]+)`");
    for (std::string line; std::getline(doc, line);) {
        if (!line.starts_with("| `")) continue;  // a row of the table; its first cell
        const std::string cell = line.substr(1, line.find('|', 1) - 1);
        for (auto it = std::sregex_iterator(cell.begin(), cell.end(), id);
             it != std::sregex_iterator(); ++it)
            documented.insert((*it)[1]);
    }
    for (const auto& e : declared) CHECK_MESSAGE(documented.contains(e), e << " is not documented");
    for (const auto& e : documented)
        CHECK_MESSAGE(declared.contains(e), e << " is documented but not in the catalogue");
}
