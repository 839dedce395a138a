#include "delivery/operations.hpp"

namespace cdphub::delivery {

nlohmann::json to_operation(const store::PendingChange& c, const BindingRef& b) {
    return {{"op", c.op == "exit" ? "remove" : "upsert"},
            {"change", c.op},
            {"change_id", c.id},
            {"binding", b.name},
            {"segment", b.segment},
            {"profile_id", c.profile},
            {"fields", c.payload},
            {"attempt", c.attempts + 1}};
}

}  // namespace cdphub::delivery
