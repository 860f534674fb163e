#include "docker/image_ref.hpp"

#include <stdexcept>

namespace mlwm::docker {
namespace {

[[noreturn]] void fail(std::string_view text, const std::string& why) {
    throw std::invalid_argument("image '" + std::string(text) + "': " + why);
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// A path component: lowercase alphanumerics separated by '.', '_', '__' or '-'.
bool valid_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) return false;
    for (char ch : c)
        if (!is_lower_alnum(ch) && ch != '.' && ch != '_' && ch != '-') return false;
    return true;
}

bool valid_registry(std::string_view r) {
    if (r.empty()) return false;
    for (char ch : r) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == ':';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string ImageRef::str() const {
    std::string s = repository;
    if (tag) s += ":" + *tag;
    if (digest) s += "@" + *digest;
    return s;
}

ImageRef parse_image_ref(std::string_view text, bool require_pin) {
    if (text.empty()) fail(text, "empty reference");
    ImageRef ref;
    std::string_view rest = text;
    if (const auto at = rest.find('@'); at != std::string_view::npos) {
        const std::string_view digest = rest.substr(at + 1);
        const auto colon = digest.find(':');
        if (colon == std::string_view::npos || digest.substr(0, colon) != "sha256" ||
            digest.size() - colon - 1 != 64)
            fail(text, "digest must be sha256: followed by 64 hex digits");
        for (char c : digest.substr(colon + 1))
            if (!is_hex(c))
                fail(text, "digest must be sha256: followed by 64 lowercase hex digits");
        ref.digest = std::string(digest);
        rest = rest.substr(0, at);
    }
    // a tag is after the last ':' that comes after the last '/'
    const auto slash = rest.rfind('/');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        const std::string_view tag = rest.substr(colon + 1);
        bool ok = !tag.empty() && tag.size() <= 128 && tag.front() != '.' && tag.front() != '-';
        for (char c : tag)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-');
        if (!ok)
            fail(text, "tag '" + std::string(tag) +
                           "' must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
        ref.tag = std::string(tag);
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) fail(text, "no repository name");
    // the first component is a registry if it has '.', ':' or is localhost
    std::string_view path = rest;
    const auto first_slash = rest.find('/');
    if (first_slash != std::string_view::npos) {
        const std::string_view first = rest.substr(0, first_slash);
        if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
            if (!valid_registry(first))
                fail(text, "registry '" + std::string(first) + "' is not a host name");
            path = rest.substr(first_slash + 1);
        }
    }
    std::size_t start = 0;
    while (true) {
        const auto end = path.find('/', start);
        const std::string_view comp =
            path.substr(start, end == std::string_view::npos ? end : end - start);
        if (!valid_component(comp))
            fail(text, "repository component '" + std::string(comp) +
                           "' must be lowercase letters, digits and separators (. _ -)");
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    ref.repository = std::string(rest);
    if (require_pin && !ref.pinned())
        fail(text, "no tag or digest; name one explicitly (e.g. " + ref.repository +
                       ":v1 or @sha256:...), never an implicit 'latest'");
    return ref;
}

}  // namespace mlwm::docker
