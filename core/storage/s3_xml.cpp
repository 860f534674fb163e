#include "storage/s3_xml.hpp"

#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

namespace mlwm::storage {
namespace pt = boost::property_tree;

namespace {

std::optional<pt::ptree> parse(const std::string& xml) {
    try {
        std::istringstream in(xml);
        pt::ptree tree;
        pt::read_xml(in, tree, pt::xml_parser::trim_whitespace);
        return tree;
    } catch (const pt::xml_parser_error&) {
        return std::nullopt;
    }
}

std::string unquote(std::string s) {
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    if (s.size() >= 12 && s.compare(0, 6, "&quot;") == 0) s = s.substr(6, s.size() - 12);
    return s;
}

S3ErrorDoc error_of(const pt::ptree& e) {
    return {e.get<std::string>("Code", ""), e.get<std::string>("Message", ""),
            e.get<std::string>("RequestId", ""), e.get<std::string>("Resource", "")};
}

}  // namespace

std::string url_decode(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size()) {
            auto val = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            const int hi = val(text[i + 1]), lo = val(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(c == '+' ? ' ' : c);
    }
    return out;
}

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

ListPage parse_list_page(const std::string& xml) {
    const auto tree = parse(xml);
    const auto root = tree ? tree->get_child_optional("ListBucketResult") : boost::none;
    if (!root)
        throw StorageError("ListObjectsV2: the answer is not a ListBucketResult: " +
                           xml.substr(0, 200));
    const bool url = root->get<std::string>("EncodingType", "") == "url";
    auto key_text = [&](const std::string& s) { return url ? url_decode(s) : s; };
    ListPage page;
    page.truncated = root->get<std::string>("IsTruncated", "false") == "true";
    page.next_continuation_token = root->get<std::string>("NextContinuationToken", "");
    for (const auto& [name, node] : *root) {
        if (name == "Contents") {
            ObjectInfo o;
            o.key = key_text(node.get<std::string>("Key", ""));
            o.size = node.get<std::uint64_t>("Size", 0);
            o.etag = unquote(node.get<std::string>("ETag", ""));
            o.last_modified = node.get<std::string>("LastModified", "");
            page.result.objects.push_back(std::move(o));
        } else if (name == "CommonPrefixes") {
            page.result.common_prefixes.push_back(key_text(node.get<std::string>("Prefix", "")));
        }
    }
    return page;
}

std::optional<S3ErrorDoc> parse_error(const std::string& xml) {
    const auto tree = parse(xml);
    if (!tree) return std::nullopt;
    const auto e = tree->get_child_optional("Error");
    if (!e) return std::nullopt;
    return error_of(*e);
}

std::string parse_upload_id(const std::string& xml) {
    const auto tree = parse(xml);
    const std::string id =
        tree ? tree->get<std::string>("InitiateMultipartUploadResult.UploadId", "") : "";
    if (id.empty())
        throw StorageError("CreateMultipartUpload: no UploadId in the answer: " +
                           xml.substr(0, 200));
    return id;
}

std::string complete_multipart_body(const std::vector<CompletedPart>& parts) {
    std::string out = "<CompleteMultipartUpload>";
    for (const auto& p : parts)
        out += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" +
               xml_escape(p.etag) + "\"</ETag></Part>";
    return out + "</CompleteMultipartUpload>";
}

std::optional<S3ErrorDoc> parse_complete_error(const std::string& xml) {
    return parse_error(xml);
}

std::string delete_objects_body(const std::vector<std::string>& keys) {
    std::string out = "<Delete><Quiet>true</Quiet>";
    for (const auto& k : keys) out += "<Object><Key>" + xml_escape(k) + "</Key></Object>";
    return out + "</Delete>";
}

std::vector<TransferFailure> parse_delete_errors(const std::string& xml) {
    std::vector<TransferFailure> out;
    const auto tree = parse(xml);
    const auto root = tree ? tree->get_child_optional("DeleteResult") : boost::none;
    if (!root) return out;
    for (const auto& [name, node] : *root)
        if (name == "Error")
            out.push_back(
                {node.get<std::string>("Key", ""),
                 node.get<std::string>("Code", "") + ": " + node.get<std::string>("Message", "")});
    return out;
}

}  // namespace mlwm::storage
