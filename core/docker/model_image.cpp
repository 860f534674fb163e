#include "docker/model_image.hpp"

#include <stdexcept>

#include "docker/image_ref.hpp"

namespace mlwm::docker {

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
        const std::string name = r.repository + "/" + r.model + ":" + tag;
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
