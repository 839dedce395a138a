#include "normalize/record.hpp"

#include <array>
#include <utility>

namespace cdphub::normalize {
namespace {

constexpr std::array<std::pair<RecordType, std::string_view>, 5> kTypes{{
    {RecordType::identify, "identify"},
    {RecordType::track, "track"},
    {RecordType::order, "order"},
    {RecordType::alias, "alias"},
    {RecordType::consent, "consent"},
}};

}  // namespace

std::string_view to_string(RecordType t) {
    for (const auto& [type, name] : kTypes)
        if (type == t) return name;
    return "unknown";
}

std::optional<RecordType> parse_record_type(std::string_view s) {
    for (const auto& [type, name] : kTypes)
        if (name == s) return type;
    return std::nullopt;
}

}  // namespace cdphub::normalize
