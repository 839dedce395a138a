#include "delivery/operations.hpp"

#include <nlohmann/json.hpp>

namespace cdphub::delivery {
namespace {

constexpr std::string_view upsert = R"({"op":"upsert","change":")";
constexpr std::string_view remove = R"({"op":"remove","change":")";

// Everything of an operation except its variable parts, to size it without writing it.
constexpr std::size_t fixed_bytes =
    upsert.size() + std::string_view(R"(","change_id":)").size() +
    std::string_view(R"(,"binding":)").size() + std::string_view(R"(,"segment":)").size() +
    std::string_view(R"(,"profile_id":)").size() + std::string_view(R"(,"fields":)").size() +
    std::string_view(R"(,"attempt":)").size() + 1;

std::size_t digits(std::int64_t v) {
    std::size_t n = v < 0 ? 2 : 1;
    for (auto u = v < 0 ? -(v / 10) : v / 10; u != 0; u /= 10) ++n;
    return n;
}

}  // namespace

OperationBatch::OperationBatch(const BindingRef& binding)
    : binding_json_(nlohmann::json(binding.name).dump()),
      segment_json_(nlohmann::json(binding.segment).dump()) {}

std::size_t OperationBatch::size_of(const OutboxChange& c) const {
    return fixed_bytes + c.op.size() + digits(c.id) + binding_json_.size() + segment_json_.size() +
           digits(c.profile) + c.fields_json.size() + digits(c.attempts + 1) + 1;
}

void OperationBatch::append(const OutboxChange& c) {
    if (count_ > 0) text_ += ',';
    // op and change are fixed words (the outbox's CHECK constraint), so they need no escaping.
    text_ += c.op == "exit" ? remove : upsert;
    text_ += c.op;
    text_ += R"(","change_id":)";
    text_ += std::to_string(c.id);
    text_ += R"(,"binding":)";
    text_ += binding_json_;
    text_ += R"(,"segment":)";
    text_ += segment_json_;
    text_ += R"(,"profile_id":)";
    text_ += std::to_string(c.profile);
    text_ += R"(,"fields":)";
    text_ += c.fields_json;
    text_ += R"(,"attempt":)";
    text_ += std::to_string(c.attempts + 1);
    text_ += '}';
    ++count_;
}

std::string OperationBatch::take_text() {
    text_ += ']';
    return std::move(text_);
}

}  // namespace cdphub::delivery
