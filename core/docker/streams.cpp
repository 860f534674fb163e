#include "docker/streams.hpp"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mlwm::docker {

void LogDemuxer::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        if (remaining_ == 0) {
            const std::size_t take = std::min(bytes.size(), sizeof header_ - header_fill_);
            std::copy_n(bytes.data(), take, header_ + header_fill_);
            header_fill_ += take;
            bytes.remove_prefix(take);
            if (header_fill_ < sizeof header_) return;
            header_fill_ = 0;
            if (header_[0] > 2 || header_[1] != 0 || header_[2] != 0 || header_[3] != 0)
                throw std::runtime_error(
                    "container log stream: not a multiplexed frame header (is the container a "
                    "TTY?)");
            kind_ = static_cast<StreamKind>(header_[0]);
            remaining_ = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16) |
                         (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
            continue;
        }
        const std::size_t take = std::min<std::size_t>(bytes.size(), remaining_);
        sink_(kind_, bytes.substr(0, take));
        remaining_ -= static_cast<std::uint32_t>(take);
        bytes.remove_prefix(take);
    }
}

void JsonLinesParser::feed(std::string_view bytes) {
    buffer_.append(bytes);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1)
        line(std::string_view(buffer_).substr(start, nl - start));
    buffer_.erase(0, start);
}

void JsonLinesParser::finish() {
    if (!buffer_.empty()) line(buffer_);
    buffer_.clear();
}

void JsonLinesParser::line(std::string_view l) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.remove_suffix(1);
    if (l.empty()) return;
    ProgressMessage m;
    const auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        m.text = std::string(l);  // not JSON: pass it on as text
        sink_(m);
        return;
    }
    if (auto it = j.find("stream"); it != j.end() && it->is_string())
        m.text = it->get<std::string>();
    if (auto it = j.find("status"); it != j.end() && it->is_string()) {
        m.text = it->get<std::string>();
        // a push's last status, "TAG: digest: sha256:... size: N" (Podman sends no aux)
        if (const auto d = m.text.find(": digest: sha256:"); d != std::string::npos)
            m.digest = m.text.substr(d + 10, m.text.find(' ', d + 10) - (d + 10));
        if (auto id = j.find("id"); id != j.end() && id->is_string())
            m.text = id->get<std::string>() + ": " + m.text;
        if (auto p = j.find("progress"); p != j.end() && p->is_string())
            m.text += " " + p->get<std::string>();
        m.text += "\n";
    }
    if (auto it = j.find("errorDetail");
        it != j.end() && it->is_object() && it->contains("message") && (*it)["message"].is_string())
        m.error = (*it)["message"].get<std::string>();
    else if (auto e = j.find("error"); e != j.end() && e->is_string())
        m.error = e->get<std::string>();
    if (auto aux = j.find("aux"); aux != j.end() && aux->is_object()) {
        if (auto id = aux->find("ID"); id != aux->end() && id->is_string())
            m.image_id = id->get<std::string>();
        if (auto d = aux->find("Digest"); d != aux->end() && d->is_string())
            m.digest = d->get<std::string>();
    }
    sink_(m);
}

}  // namespace mlwm::docker
