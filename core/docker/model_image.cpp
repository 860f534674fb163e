#include "docker/model_image.hpp"

#include <stdexcept>

#include "docker/image_ref.hpp"

namespace mlwm::docker {

std::string image_component(const std::string& model) {
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    std::string lower;
    for (char c : model) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        lower += alnum(c) || c == '.' || c == '_' || c == '-' ? c : '-';
    }
    // runs of separators: '.', '_', '__' or dashes stay; any other mix is one '-'
    std::string out;
    for (std::size_t i = 0; i < lower.size();) {
        if (alnum(lower[i])) {
            out += lower[i++];
            continue;
        }
        std::size_t j = i;
        while (j < lower.size() && !alnum(lower[j])) ++j;
        const std::string run = lower.substr(i, j - i);
        const bool dashes = run.find_first_not_of('-') == std::string::npos;
        if (!out.empty() && j < lower.size())  // none at either end
            out += (dashes || run == "." || run == "_" || run == "__") ? run : "-";
        i = j;
    }
    if (out.empty())
        throw std::invalid_argument("model '" + model +
                                    "': its name has no letter or digit to name an image after");
    return out;
}

BuildOptions plan_model_image(const ModelImageRequest& r) {
    BuildOptions o;
    o.context_dir = r.model_dir;
    o.dockerfile = "Containerfile";
    std::vector<std::string> tags = r.tags;
    if (tags.empty()) {
        if (!r.revision.empty()) tags.push_back(r.revision);
        tags.push_back("latest");
    }
    for (const auto& tag : tags) {
        const std::string name = r.repository + "/" + image_component(r.model) + ":" + tag;
        try {
            o.tags.push_back(parse_image_ref(name).str());
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument("model '" + r.model +
                                        "': cannot name its image: " + e.what());
        }
    }
    o.labels["org.opencontainers.image.title"] = r.model;
    o.labels["org.opencontainers.image.version"] = tags.front();
    if (!r.revision.empty()) o.labels["org.opencontainers.image.revision"] = r.revision;
    if (!r.source.empty()) o.labels["org.opencontainers.image.source"] = r.source;
    if (!r.created.empty()) o.labels["org.opencontainers.image.created"] = r.created;
    o.build_args = r.build_args;
    return o;
}

}  // namespace mlwm::docker
