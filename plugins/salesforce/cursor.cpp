#include "cursor.hpp"

#include <cdphub_plugins/web.hpp>

namespace cdphub::salesforce {

void ObjectPosition::advance(const std::string& stamp, std::int64_t stamp_ms,
                             const std::string& id) {
    if (watermark.empty() || stamp_ms > watermark_ms) {
        watermark = stamp;
        watermark_ms = stamp_ms;
        ids.clear();
    }
    // A row older than the watermark (possible only if Salesforce returned rows out of order)
    // leaves the position alone: moving it back could not make it more complete.
    if (stamp_ms == watermark_ms) ids.insert(id);
}

Cursor Cursor::from_json(const json& j) {
    Cursor c;
    if (j.is_null()) return c;
    auto bad = [&](const std::string& why) {
        return FatalError("the stored cursor was not written by this plugin (" + why +
                          "): " + j.dump().substr(0, 200) +
                          "; reset this connector's cursor to read everything again");
    };
    if (!j.is_object() || j.value("version", 0) != 1 || !j.contains("objects") ||
        !j["objects"].is_object())
        throw bad("expected {\"version\": 1, \"objects\": {...}}");
    for (const auto& [name, o] : j["objects"].items()) {
        if (!o.is_object() || !o.contains("watermark") || !o["watermark"].is_string() ||
            !o.contains("ids") || !o["ids"].is_array())
            throw bad(name + " lacks watermark or ids");
        ObjectPosition p;
        p.watermark = o["watermark"].get<std::string>();
        auto ms = plugins::parse_utc_ms(p.watermark);
        if (!ms) throw bad(name + ".watermark is no timestamp");
        p.watermark_ms = *ms;
        for (const auto& id : o["ids"]) {
            if (!id.is_string()) throw bad(name + ".ids holds a non-string");
            p.ids.insert(id.get<std::string>());
        }
        c.objects[name] = std::move(p);
    }
    return c;
}

json Cursor::to_json() const {
    json out = json::object();
    for (const auto& [name, p] : this->objects) {
        if (p.watermark.empty()) continue;
        out[name] = {{"watermark", p.watermark}, {"ids", p.ids}};
    }
    return {{"version", 1}, {"objects", out}};
}

}  // namespace cdphub::salesforce
