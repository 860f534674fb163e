#include <doctest/doctest.h>

#include "cli/args.hpp"

using namespace mlwm::cli;

namespace {
CommandSpec spec() {
    return CommandSpec{
        .path = "thing do",
        .summary = "does a thing",
        .description = "",
        .options = {{"name", "NAME", "the name", true},
                    {"tag", "TAG", "a tag", false, true},
                    {"dry-run", "", "only print"},
                    {"nl-config", "PATH", "config", false, false, {"nl_config"}}},
        .positionals = {{"SRC", "source"}, {"DST", "destination", true}},
    };
}
ParsedArgs parse(std::vector<std::string> v) {
    return parse_args(spec(), v);
}
}  // namespace

TEST_CASE("options, flags and positionals") {
    const auto a = parse({"--name", "x", "--tag=a", "--tag", "b", "--dry-run", "src"});
    CHECK(a.get("name") == "x");
    CHECK(a.all("tag") == std::vector<std::string>{"a", "b"});
    CHECK(a.has("dry-run"));
    CHECK(a.positionals == std::vector<std::string>{"src"});
    CHECK_FALSE(a.has("nl-config"));
}

TEST_CASE("values that start with a dash and the -- separator") {
    const auto a = parse({"--name", "-10.5,3", "--", "--src", "dst"});
    CHECK(a.get("name") == "-10.5,3");
    CHECK(a.positionals == std::vector<std::string>{"--src", "dst"});
}

TEST_CASE("aliases map to the canonical name") {
    const auto a = parse({"--name=n", "--nl_config", "c.yaml", "s"});
    CHECK(a.get("nl-config") == "c.yaml");
}

TEST_CASE("usage errors are one line and name the problem") {
    CHECK_THROWS_WITH_AS(parse({"--nope", "s"}), doctest::Contains("unknown option '--nope'"),
                         UsageError);
    CHECK_THROWS_WITH_AS(parse({"-x", "s"}), doctest::Contains("unknown option '-x'"), UsageError);
    CHECK_THROWS_WITH_AS(parse({"s"}), doctest::Contains("missing required option --name"),
                         UsageError);
    CHECK_THROWS_WITH_AS(parse({"--name"}), doctest::Contains("needs a value NAME"), UsageError);
    CHECK_THROWS_WITH_AS(parse({"--name", "a", "--name", "b", "s"}),
                         doctest::Contains("more than once"), UsageError);
    CHECK_THROWS_WITH_AS(parse({"--name", "a"}), doctest::Contains("missing argument SRC"),
                         UsageError);
    CHECK_THROWS_WITH_AS(parse({"--name", "a", "s", "d", "e"}),
                         doctest::Contains("unexpected argument 'e'"), UsageError);
    CHECK_THROWS_WITH_AS(parse({"--name", "a", "--dry-run=yes", "s"}),
                         doctest::Contains("takes no value"), UsageError);
    try {
        parse({"--nope"});
    } catch (const UsageError& e) {
        CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
}

TEST_CASE("--help wins over missing options") {
    CHECK(parse({"--help"}).help);
    CHECK(parse({"-h"}).help);
}

TEST_CASE("help lists every option, its aliases and required marks") {
    const std::string h = render_help(spec());
    CHECK(h.find("usage: mlwm thing do [OPTIONS] SRC [DST]") == 0);
    CHECK(h.find("--name NAME") != std::string::npos);
    CHECK(h.find("(required)") != std::string::npos);
    CHECK(h.find("--nl_config") != std::string::npos);
    CHECK(h.find("(repeatable)") != std::string::npos);
    CHECK(h.find("--dry-run") != std::string::npos);
}
