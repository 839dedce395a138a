#include "pipeline/segments.hpp"

#include <SQLiteCpp/Statement.h>

#include "segment/evaluator.hpp"
#include "segment/parser.hpp"
#include "segment/sql_compiler.hpp"
#include "segment/sqlite_backend.hpp"
#include "store/sqlite_profile_writer.hpp"

namespace cdphub::pipeline {

namespace {

std::string first_error(const std::vector<segment::SegmentError>& errors) {
    return errors.empty() ? "invalid expression" : errors.front().to_string();
}

std::vector<store::SqlParam> to_params(const std::vector<segment::SqlValue>& values) {
    std::vector<store::SqlParam> out;
    out.reserve(values.size());
    for (const auto& v : values) std::visit([&](const auto& x) { out.emplace_back(x); }, v);
    return out;
}

}  // namespace

SegmentEngine::SegmentEngine(store::SqliteProfileStore& store,
                             const manifest::ManifestSet& manifests)
    : store_(store) {
    // Computed traits first: segments may refer to them.
    for (const auto& t : manifests.computed_traits) {
        auto parsed = segment::parse_aggregate(t.expression.text);
        if (!parsed.ok())
            throw DefinitionError("computed trait '" + t.name + "': " + first_error(parsed.errors));
        computed_.emplace(t.name, std::move(*parsed.value));
    }
    segment::ParseOptions opts;
    opts.computed = &computed_;
    for (const auto& s : manifests.segments) {
        if (!s.enabled) continue;
        auto parsed = segment::parse_segment(s.expression.text, opts);
        if (!parsed.ok())
            throw DefinitionError("segment '" + s.name + "': " + first_error(parsed.errors));
        segments_.push_back({s.name, s.expression.text, std::move(*parsed.value)});
    }
}

SegmentEngine::SegmentEngine(store::SqliteProfileStore& store, segment::ComputedTraits computed,
                             std::vector<SegmentDefinition> segments)
    : store_(store), computed_(std::move(computed)), segments_(std::move(segments)) {}

void SegmentEngine::sync_definitions(const manifest::ManifestSet* manifests) {
    for (const auto& s : segments_)
        store_.define_segment({s.name, s.expression, segment::to_json(s.expr)});
    if (!manifests) return;
    for (const auto& a : manifests->activations) {
        if (!a.enabled) continue;
        store::BindingDefinition b;
        b.name = a.name;
        b.segment = a.segment;
        b.destination = a.destination;
        b.purpose = a.purpose;
        for (const auto& [field, operand] : a.mapping) b.mapping.push_back({field, operand});
        store_.define_binding(b);
    }
}

store::MembershipDelta SegmentEngine::evaluate(const std::string& name, const std::string& now) {
    for (const auto& s : segments_) {
        if (s.name != name) continue;
        segment::Context ctx{now, &computed_};
        auto compiled = segment::compile_sql(s.expr, ctx);
        store::MembershipDelta d;
        store_.with_connection([&](SQLite::Database& db, const std::string& tx_now) {
            segment::register_sql_functions(db);
            d = store::sqlite_evaluate_segment(db, name, compiled.sql, to_params(compiled.params),
                                               tx_now);
        });
        return d;
    }
    throw store::UnknownName("there is no enabled segment named '" + name + "'");
}

std::map<std::string, store::MembershipDelta> SegmentEngine::evaluate_all(const std::string& now) {
    std::map<std::string, store::MembershipDelta> out;
    for (const auto& s : segments_) out[s.name] = evaluate(s.name, now);
    return out;
}

std::map<std::string, store::MembershipDelta> SegmentEngine::on_changed(
    const std::vector<store::ProfileId>& profiles, const std::string& now) {
    std::map<std::string, store::MembershipDelta> out;
    if (profiles.empty()) return out;
    segment::Context ctx{now, &computed_};
    store_.with_connection([&](SQLite::Database& db, const std::string& tx_now) {
        std::map<std::string, std::vector<std::pair<store::ProfileId, bool>>> updates;
        SQLite::Statement live(db, "SELECT merged_into IS NULL FROM profiles WHERE id = ?");
        SQLite::Statement put(db,
                              "INSERT INTO computed_traits (profile_id, name, kind, value, "
                              "computed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (profile_id, name) "
                              "DO UPDATE SET kind = excluded.kind, value = excluded.value, "
                              "computed_at = excluded.computed_at");
        SQLite::Statement drop(db, "DELETE FROM computed_traits WHERE profile_id = ? AND name = ?");
        segment::SnapshotLoader snapshots(db);
        for (auto id : profiles) {
            live.bind(1, id);
            bool is_live = live.executeStep() && live.getColumn(0).getInt() != 0;
            live.reset();
            if (!is_live) {
                for (const auto& s : segments_) updates[s.name].push_back({id, false});
                continue;
            }
            auto snapshot = snapshots.load(id);
            for (const auto& s : segments_)
                updates[s.name].push_back({id, segment::evaluate(s.expr, snapshot, ctx)});
            for (const auto& [name, agg] : computed_) {
                auto value = segment::evaluate_aggregate(agg, snapshot, ctx);
                if (value && !value->is_null()) {
                    put.bind(1, id);
                    put.bind(2, name);
                    store::bind_json_value(put, 3, 4, *value);
                    put.bind(5, tx_now);
                    put.exec();
                    put.reset();
                } else {
                    drop.bind(1, id);
                    drop.bind(2, name);
                    drop.exec();
                    drop.reset();
                }
            }
        }
        for (const auto& [name, changes] : updates)
            out[name] = store::sqlite_update_members(db, name, changes, tx_now, false);
    });
    return out;
}

PreviewResult SegmentEngine::preview(const std::string& expression, std::size_t limit,
                                     const std::string& now) {
    segment::ParseOptions opts;
    opts.computed = &computed_;
    auto parsed = segment::parse_segment(expression, opts);
    if (!parsed.ok()) throw DefinitionError(first_error(parsed.errors));
    segment::Context ctx{now, &computed_};
    auto compiled = segment::compile_sql(*parsed.value, ctx);
    PreviewResult r;
    store_.with_connection([&](SQLite::Database& db, const std::string&) {
        auto ids = segment::run_segment_sql(db, compiled);
        r.count = static_cast<std::int64_t>(ids.size());
        if (ids.size() > limit) ids.resize(limit);
        r.sample = std::move(ids);
    });
    return r;
}

}  // namespace cdphub::pipeline

namespace cdphub::pipeline {

manifest::ExpressionChecker expression_checker(const manifest::ManifestSet& manifests) {
    auto computed = std::make_shared<segment::ComputedTraits>();
    for (const auto& t : manifests.computed_traits) {
        auto parsed = segment::parse_aggregate(t.expression.text);
        if (parsed.ok()) computed->emplace(t.name, std::move(*parsed.value));
    }
    return [computed](std::string_view text, manifest::ExpressionKind kind) {
        segment::ParseOptions opts;
        opts.computed = computed.get();
        std::vector<segment::SegmentError> errors;
        switch (kind) {
            case manifest::ExpressionKind::segment:
                errors = segment::parse_segment(text, opts).errors;
                break;
            case manifest::ExpressionKind::aggregate:
                errors = segment::parse_aggregate(text, opts).errors;
                break;
            case manifest::ExpressionKind::operand:
                errors = segment::parse_operand(text, opts).errors;
                break;
        }
        std::vector<manifest::ExpressionError> out;
        for (const auto& e : errors)
            out.push_back(
                {e.line, e.column, e.hint.empty() ? e.message : e.message + "; " + e.hint});
        return out;
    };
}

}  // namespace cdphub::pipeline
