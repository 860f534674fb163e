// .env files, as python-dotenv reads them (ARTIFACT_PATH_FORMAT comes from one).
#include <doctest/doctest.h>

#include "util/dotenv.hpp"

using mlwm::util::parse_dotenv;

TEST_CASE("dotenv: assignments, export, comments, quotes and escapes") {
    const auto env = parse_dotenv(
        "# a comment\n"
        "\n"
        "ARTIFACT_PATH_FORMAT=s3://bucket/{artifact_name}.zip\n"
        "export EXPORTED = value  \n"
        "COMMENTED=plain # trailing comment\n"
        "HASH=a#b\n"
        "SINGLE='literal \\n # kept'\n"
        "DOUBLE=\"line\\none \\\"quoted\\\" \\\\\"\n"
        "EMPTY=\n"
        "not an assignment\n"
        "=no-key\n"
        "CRLF=windows\r\n");
    CHECK(env.at("ARTIFACT_PATH_FORMAT") == "s3://bucket/{artifact_name}.zip");
    CHECK(env.at("EXPORTED") == "value");
    CHECK(env.at("COMMENTED") == "plain");
    CHECK(env.at("HASH") == "a#b");
    CHECK(env.at("SINGLE") == "literal \\n # kept");
    CHECK(env.at("DOUBLE") == "line\none \"quoted\" \\");
    CHECK(env.at("EMPTY") == "");
    CHECK(env.at("CRLF") == "windows");
    CHECK(env.size() == 8);
}

TEST_CASE("dotenv: a later assignment wins") {
    CHECK(parse_dotenv("A=1\nA=2\n").at("A") == "2");
}
