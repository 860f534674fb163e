// Incremental parsers for the Engine's streamed answers. Pure: bytes in,
// callbacks out; they accept the stream in chunks of any size.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mlwm::docker {

enum class StreamKind : std::uint8_t { stdin_ = 0, stdout_ = 1, stderr_ = 2 };

// Demultiplexes the logs/attach stream of a non-TTY container: frames of an
// 8-byte header [kind, 0, 0, 0, size (big endian u32)] and `size` bytes.
class LogDemuxer {
public:
    using Sink = std::function<void(StreamKind, std::string_view)>;
    explicit LogDemuxer(Sink sink) : sink_(std::move(sink)) {}
    // Throws std::runtime_error on a header that is not a frame header.
    void feed(std::string_view bytes);
    // True when the stream ended on a frame boundary.
    bool complete() const { return header_fill_ == 0 && remaining_ == 0; }

private:
    Sink sink_;
    unsigned char header_[8]{};
    std::size_t header_fill_ = 0;
    std::uint32_t remaining_ = 0;
    StreamKind kind_ = StreamKind::stdout_;
};

// The JSON-lines progress of /build and /images/create.
struct ProgressMessage {
    std::string text;                  // "stream" or "status" (+ "progress"), as the CLI shows it
    std::optional<std::string> error;  // "error" / "errorDetail.message"
    std::optional<std::string> image_id;  // from {"aux":{"ID":...}}
    std::optional<std::string> digest;    // a push's: {"aux":{"Digest":...}} or its last status
};

class JsonLinesParser {
public:
    using Sink = std::function<void(const ProgressMessage&)>;
    explicit JsonLinesParser(Sink sink) : sink_(std::move(sink)) {}
    void feed(std::string_view bytes);
    void finish();  // a last line without a newline

private:
    void line(std::string_view l);
    Sink sink_;
    std::string buffer_;
};

}  // namespace mlwm::docker
