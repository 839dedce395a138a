#include "server/service.hpp"

#include <stdexcept>

#include "logging/logging.hpp"
#include "secrets/secrets.hpp"

namespace cdphub::server {

WriteKeys resolve_write_keys(const manifest::IngestApiConfig& config,
                             const std::filesystem::path& manifest_root) {
    WriteKeys keys;
    for (const auto& [source, ref] : config.write_keys) {
        auto r = secrets::resolve(ref, manifest_root);
        if (!r.value)
            throw std::runtime_error("ingest_api: the write key of source '" + source +
                                     "' cannot be read (" + secrets::describe(ref) +
                                     "): " + r.error);
        if (!keys.emplace(*r.value, source).second)
            throw std::runtime_error("ingest_api: source '" + source +
                                     "' has the same write key as another source");
    }
    return keys;
}

IngestService::IngestService(const manifest::IngestApiConfig& config,
                             const std::filesystem::path& data_dir,
                             const std::filesystem::path& manifest_root, store::ProfileStore& store,
                             const normalize::Normalizer& normalizer,
                             const identity::Resolver& resolver,
                             pipeline::Ingestor& webhook_ingestor, Processor::Listener listener,
                             AdminHandler admin)
    : router_(webhook_ingestor) {
    ServerOptions so;
    so.address = config.address;
    so.port = static_cast<unsigned short>(config.port);
    so.threads = config.threads;
    so.read_timeout = config.read_timeout;
    so.retry_after_seconds = config.retry_after_seconds;
    so.write_keys = resolve_write_keys(config, manifest_root);
    InboxOptions io;
    io.durability = config.durability_full ? store::Durability::full : store::Durability::normal;
    io.max_queued_events = static_cast<std::size_t>(config.max_queued_events);
    io.max_backlog_events = static_cast<std::size_t>(config.max_backlog_events);
    inbox_ = std::make_unique<Inbox>(data_dir / "inbox.db", io);
    processor_ = std::make_unique<Processor>(*inbox_, store, normalizer, resolver,
                                             ProcessorOptions{}, std::move(listener));
    processor_->start();
    server_ = std::make_unique<Server>(so, *inbox_, counters_, router_.handler(), std::move(admin));
    server_->start();
    logging::get("ingest-api")
        ->info("ingest API listening on {}:{} for {} sources", so.address, server_->port(),
               so.write_keys.size());
}

IngestService::~IngestService() {
    stop(std::chrono::seconds(0));
}

void IngestService::stop(std::chrono::milliseconds drain) {
    if (stopped_) return;
    stopped_ = true;
    server_->stop();                // answers in-flight requests, closes the inbox
    processor_->stop(true, drain);  // then everything committed is processed (within `drain`)
    logging::get("ingest-api")
        ->info("ingest API stopped: {} requests, {} events accepted, {} unprocessed",
               counters_.requests.load(), counters_.events_accepted.load(),
               inbox_->last_position() - inbox_->processed_position());
}

}  // namespace cdphub::server
