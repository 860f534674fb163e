// Image references: `[registry[:port]/]path[:tag][@digest]`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mlwm::docker {

struct ImageRef {
    std::string repository;  // registry and path, e.g. ghcr.io/example/model
    std::optional<std::string> tag;
    std::optional<std::string> digest;  // e.g. sha256:0123...

    // The full reference as written back: repository[:tag][@digest].
    std::string str() const;
    bool pinned() const { return tag.has_value() || digest.has_value(); }
};

// Parses and validates a reference. Throws std::invalid_argument naming the
// reference and what is wrong. With `require_pin`, a reference without a tag
// or digest is refused (pulling it would pull every tag; running it would run
// whatever `latest` happens to be).
ImageRef parse_image_ref(std::string_view text, bool require_pin = true);

}  // namespace mlwm::docker
