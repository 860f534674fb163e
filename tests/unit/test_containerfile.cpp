// `mlwm validate`'s checks of a model's Containerfile (pure).
#include <doctest/doctest.h>

#include "config/containerfile.hpp"

using mlwm::config::check_containerfile;

namespace {
std::vector<std::string> problems(std::string_view text, bool has_artifact = false,
                                  std::map<std::string, std::string> build_args = {}) {
    std::vector<std::string> out;
    for (const auto& i :
         check_containerfile(text, "m/Containerfile", has_artifact, build_args).problems)
        out.push_back(i.str());
    return out;
}
}  // namespace

TEST_CASE("Containerfile: the bundled shapes pass") {
    CHECK(problems("ARG BASE_IMAGE=mlwm/busybox-base:1\nFROM ${BASE_IMAGE}\nCOPY forecast.sh /x\n"
                   "ENTRYPOINT [\"/bin/sh\", \"/x\"]\n")
              .empty());
    // continuation lines, comments inside them, lower-case keywords, stages
    CHECK(problems("# syntax=docker/dockerfile:1\nfrom debian:12 AS build\nRUN a \\\n"
                   "# a comment inside\n  && b\nFROM build\nCOPY --from=build /a /b\n")
              .empty());
    CHECK(problems("FROM x:1\nCOPY artifact/ /opt/artifact/\n", true).empty());
}

TEST_CASE("Containerfile: problems name the line and what was expected") {
    CHECK(problems("FORM debian:12\n") ==
          std::vector<std::string>{
              "m/Containerfile:1:1: FORM: unknown instruction (expected FROM, RUN, COPY, ADD, ARG, "
              "ENV, ENTRYPOINT, CMD, LABEL, WORKDIR, USER, ...)",
              "m/Containerfile: FROM: no FROM instruction: nothing to build on"});
    CHECK(problems("# only a comment\n\n") ==
          std::vector<std::string>{
              "m/Containerfile: FROM: no FROM instruction: nothing to build on"});
    CHECK(problems("COPY a /a\nFROM x:1\n") ==
          std::vector<std::string>{"m/Containerfile:1:1: COPY: comes before FROM (only ARG may)"});
    // a base-image argument without a value
    CHECK(
        problems("ARG BASE\nFROM ${BASE}\n") ==
        std::vector<std::string>{"m/Containerfile:2:1: FROM: ${BASE}: ARG BASE has no default and "
                                 "config.yaml's build_args does not set it"});
    CHECK(problems("ARG BASE\nFROM ${BASE}\n", false, {{"BASE", "x:1"}}).empty());
    CHECK(problems("FROM $IMAGE\n") ==
          std::vector<std::string>{
              "m/Containerfile:1:1: FROM: $IMAGE: $IMAGE is not declared by an ARG before FROM"});
    // artifact/ is filled by build-image only when the configuration names an artifact
    CHECK(problems("FROM x:1\nRUN true\nCOPY ./artifact/ \\\n  /opt/a/\n") ==
          std::vector<std::string>{
              "m/Containerfile:3:1: COPY: copies artifact/, which mlwm build-image fills from the "
              "inference artifact, but config.yaml sets no inference_artifact"});
    CHECK(problems("FROM x:1\nCOPY [\"artifact\", \"/a\"]\n").size() == 1);
    CHECK(problems("FROM x:1\nCOPY artifacts.txt /a\n").empty());
}

TEST_CASE("Containerfile: credentials baked into an image are a warning") {
    // the original tool's images did this: they build, with a warning
    const auto c = check_containerfile(
        "FROM x:1\nARG AWS_ACCESS_KEY_ID\nENV AWS_SECRET_ACCESS_KEY=$S\nENV AWS_DEFAULT_REGION eu\n"
        "ENV A=1 AWS_SESSION_TOKEN=t\n",
        "m/Containerfile", false, {});
    CHECK(c.problems.empty());
    REQUIRE(c.warnings.size() == 3);
    CHECK(c.warnings[0].str() ==
          "m/Containerfile:2:1: ARG: ARG AWS_ACCESS_KEY_ID bakes S3 credentials into the image "
          "(whoever can pull it can read them); with s3_credentials: pass mlwm hands them to the "
          "container at run time");
    CHECK(c.warnings[1].line == 3);
    CHECK(c.warnings[2].line == 5);
}
