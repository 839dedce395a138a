// ndjson-file: a source that reads canonical records, one JSON object per line, from the files of
// a directory whose names match a glob pattern, in name order, incrementally.
//
// The cursor is {"file": name, "offset": bytes, "line": lines} and points just past the last line
// handed to the hub: every batch carries the cursor of its own end, so a crash re-reads at most
// one batch. The hub stores records by record_id, which makes that re-read harmless.
//
// Nothing is dropped silently: a line that is not a JSON object becomes
//   {"_raw": "<line>", "_error": "<why>", "_file": "<name>", "_line": N}
// which the hub's normalizer rejects, with that reason, into its rejected store.
#include <cdphub/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

namespace fs = std::filesystem;
using cdphub::json;

constexpr size_t kDefaultBatchSize = 500;
constexpr size_t kMaxBatchSize = 10000;
// A batch is also cut at this size so that a file of very large records cannot build a batch
// the hub would have to hold in memory all at once.
constexpr size_t kMaxBatchBytes = size_t{8} << 20;
constexpr size_t kDefaultMaxLineBytes = size_t{1} << 20;
constexpr size_t kMinLineBytes = 1024;
constexpr size_t kMaxLineBytes = size_t{64} << 20;
// How much of an over-long line is kept in its rejection record, so the admin can find it.
constexpr size_t kExcerptBytes = 1024;
constexpr size_t kListedBadLines = 10;

// ---- Paths as UTF-8 -------------------------------------------------------------------------
// Names travel in JSON (cursor, messages), so they are handled as UTF-8 strings. C++20 made
// u8path() deprecated and u8string() return std::u8string; these two hide the difference so the
// file builds as C++17 (the SDK's floor) and as C++20 (the hub's tree).

fs::path path_from_utf8(const std::string& s) {
#if defined(__cpp_lib_char8_t)
    return fs::path(std::u8string(s.begin(), s.end()));
#else
    return fs::u8path(s);
#endif
}

std::string utf8(const fs::path& p) {
#if defined(__cpp_lib_char8_t)
    auto u = p.u8string();
    return std::string(u.begin(), u.end());
#else
    return p.u8string();
#endif
}

// ---- Glob matching on file names ------------------------------------------------------------

// Index just past the bracket expression starting at p[i] == '[', or npos if it is not closed.
size_t bracket_end(std::string_view p, size_t i) {
    size_t j = i + 1;
    if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
    if (j < p.size() && p[j] == ']') ++j;  // a leading ']' is a member, as in the shell
    while (j < p.size() && p[j] != ']') ++j;
    return j < p.size() ? j + 1 : std::string_view::npos;
}

bool bracket_matches(std::string_view set, unsigned char c) {
    // `set` is the text between '[' and ']'.
    size_t i = 0;
    bool negate = false;
    if (i < set.size() && (set[i] == '!' || set[i] == '^')) {
        negate = true;
        ++i;
    }
    bool found = false;
    while (i < set.size()) {
        auto lo = static_cast<unsigned char>(set[i]);
        if (i + 2 < set.size() && set[i + 1] == '-') {
            auto hi = static_cast<unsigned char>(set[i + 2]);
            found = found || (lo <= c && c <= hi);
            i += 3;
        } else {
            found = found || lo == c;
            ++i;
        }
    }
    return found != negate;
}

// Shell-style match of a whole file name: '*' any run of bytes, '?' one byte, "[a-z]" and
// "[!x]" sets, '\' quotes the next character. Like the shell, a leading '.' must be matched
// literally, so writers' hidden temporary files (".part.ndjson") are left alone.
bool glob_match(std::string_view pattern, std::string_view name) {
    if (!name.empty() && name[0] == '.' && (pattern.empty() || pattern[0] != '.')) return false;
    size_t p = 0, n = 0;
    size_t star_p = std::string_view::npos, star_n = 0;
    while (n < name.size()) {
        if (p < pattern.size()) {
            char pc = pattern[p];
            if (pc == '*') {
                star_p = p++;
                star_n = n;
                continue;
            }
            if (pc == '?') {
                ++p;
                ++n;
                continue;
            }
            if (pc == '[') {
                size_t end = bracket_end(pattern, p);
                if (end != std::string_view::npos) {
                    if (bracket_matches(pattern.substr(p + 1, end - p - 2),
                                        static_cast<unsigned char>(name[n]))) {
                        p = end;
                        ++n;
                        continue;
                    }
                } else if (name[n] == '[') {
                    ++p;
                    ++n;
                    continue;
                }
            } else {
                if (pc == '\\' && p + 1 < pattern.size()) pc = pattern[++p];
                if (pc == name[n]) {
                    ++p;
                    ++n;
                    continue;
                }
            }
        }
        // Mismatch: let the last '*' swallow one more byte, or fail.
        if (star_p == std::string_view::npos) return false;
        p = star_p + 1;
        n = ++star_n;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

// ---- Configuration --------------------------------------------------------------------------

struct Settings {
    fs::path directory;
    std::string pattern = "*.ndjson";
    size_t batch_size = kDefaultBatchSize;
    size_t max_line_bytes = kDefaultMaxLineBytes;
};

size_t integer_in(const json& config, const char* key, size_t def, size_t lo, size_t hi) {
    auto it = config.find(key);
    if (it == config.end()) return def;
    if (!it->is_number_integer() || it->get<int64_t>() < static_cast<int64_t>(lo) ||
        it->get<int64_t>() > static_cast<int64_t>(hi))
        throw cdphub::ConfigError("\"" + std::string(key) + "\" must be an integer from " +
                                  std::to_string(lo) + " to " + std::to_string(hi));
    return static_cast<size_t>(it->get<int64_t>());
}

// The hub validates the config against the spec first; these checks repeat what matters so that
// the plugin fails clearly, not strangely, under a hub that did not.
Settings parse_settings(const json& config) {
    if (!config.is_object()) throw cdphub::ConfigError("config must be a JSON object");
    for (const auto& [key, value] : config.items()) {
        (void)value;
        if (key != "directory" && key != "pattern" && key != "batch_size" &&
            key != "max_line_bytes")
            throw cdphub::ConfigError("unknown config field \"" + key +
                                      "\" (known: directory, pattern, batch_size, "
                                      "max_line_bytes)");
    }
    Settings s;
    auto dir = config.find("directory");
    if (dir == config.end() || !dir->is_string() || dir->get_ref<const std::string&>().empty())
        throw cdphub::ConfigError("\"directory\" is required: the folder holding the NDJSON files");
    // Relative paths resolve against the hub's working directory; absolute() records which one
    // that was, so messages name the real folder.
    std::error_code ec;
    s.directory = fs::absolute(path_from_utf8(dir->get<std::string>()), ec);
    if (ec) s.directory = path_from_utf8(dir->get<std::string>());
    if (auto pat = config.find("pattern"); pat != config.end()) {
        if (!pat->is_string() || pat->get_ref<const std::string&>().empty())
            throw cdphub::ConfigError("\"pattern\" must be a non-empty glob such as \"*.ndjson\"");
        s.pattern = pat->get<std::string>();
    }
    if (s.pattern.find('/') != std::string::npos)
        throw cdphub::ConfigError("\"pattern\" matches file names only and cannot contain '/': " +
                                  s.pattern);
    for (size_t i = 0; i < s.pattern.size(); ++i) {
        if (s.pattern[i] == '\\')
            ++i;
        else if (s.pattern[i] == '[' && bracket_end(s.pattern, i) == std::string::npos)
            throw cdphub::ConfigError("\"pattern\" has a '[' without its ']': " + s.pattern);
    }
    s.batch_size = integer_in(config, "batch_size", kDefaultBatchSize, 1, kMaxBatchSize);
    s.max_line_bytes =
        integer_in(config, "max_line_bytes", kDefaultMaxLineBytes, kMinLineBytes, kMaxLineBytes);
    return s;
}

// ---- Cursor ---------------------------------------------------------------------------------

struct Position {
    std::string file;     // name within the directory; empty: nothing read yet
    uint64_t offset = 0;  // byte offset of the next unread line
    uint64_t line = 0;    // lines before offset (for messages that name file:line)

    bool operator==(const Position& o) const {
        return file == o.file && offset == o.offset && line == o.line;
    }
    bool operator!=(const Position& o) const { return !(*this == o); }
    json to_json() const { return json{{"file", file}, {"offset", offset}, {"line", line}}; }
};

// The committed cursor, or an empty Position for a first read. A cursor this plugin cannot have
// written is not silently taken as "start over": that would re-read every file.
Position parse_cursor(const std::string& text) {
    Position pos;
    if (text.empty()) return pos;
    json c = cdphub::parse_untrusted_json(text);
    auto bad = [&] {
        return cdphub::FatalError("the stored cursor " + text.substr(0, 200) +
                                  " is not {\"file\": name, \"offset\": bytes}; reset the "
                                  "instance's cursor to read the directory from the start");
    };
    if (!c.is_object()) throw bad();
    auto file = c.find("file");
    auto offset = c.find("offset");
    if (file == c.end() || !file->is_string() || offset == c.end() || !offset->is_number_unsigned())
        throw bad();
    pos.file = file->get<std::string>();
    pos.offset = offset->get<uint64_t>();
    if (auto line = c.find("line"); line != c.end()) {
        if (!line->is_number_unsigned()) throw bad();
        pos.line = line->get<uint64_t>();
    }
    return pos;
}

// ---- Reading lines --------------------------------------------------------------------------

// Reads a file line by line from a byte offset, keeping exact offsets. A line longer than the
// limit is not held in memory: only its first bytes are kept, for the rejection record.
class LineReader {
  public:
    enum class Result { line, overlong, tail, end };

    LineReader(const fs::path& path, uint64_t offset, size_t max_line_bytes)
        : in_(path, std::ios::binary), consumed_(offset), max_line_(max_line_bytes) {
        if (!in_) return;
        in_.seekg(static_cast<std::streamoff>(offset));
    }
    bool ok() const { return static_cast<bool>(in_) || in_.eof(); }

    // line/overlong: a complete line (without "\n" or "\r\n") is in text(); tail: the file ends
    // with bytes after the last line break, in text() (the writer may still be on that line);
    // end: nothing more.
    Result next() {
        text_.clear();
        size_t length = 0;  // bytes of the line in the file, even those not kept
        bool overlong = false;
        for (;;) {
            if (pos_ == len_ && !refill()) {
                tail_length_ = length;
                tail_overlong_ = overlong;
                return length == 0 ? Result::end : Result::tail;
            }
            const char* start = buf_.data() + pos_;
            const char* stop = buf_.data() + len_;
            const char* nl = std::find(start, stop, '\n');
            size_t chunk = static_cast<size_t>(nl - start);
            if (!overlong && text_.size() + chunk > max_line_) {
                overlong = true;
                text_.resize(std::min(text_.size(), kExcerptBytes));
            }
            if (overlong) {
                if (text_.size() < kExcerptBytes)
                    text_.append(start, std::min(chunk, kExcerptBytes - text_.size()));
            } else {
                text_.append(start, chunk);
            }
            length += chunk;
            if (nl == stop) {
                pos_ = len_;
                continue;
            }
            pos_ += chunk + 1;
            consumed_ += length + 1;
            if (!overlong && !text_.empty() && text_.back() == '\r') text_.pop_back();
            return overlong ? Result::overlong : Result::line;
        }
    }
    // Takes the tail last returned by next() as a complete line (its file is finished).
    Result accept_tail() {
        consumed_ += tail_length_;
        if (!tail_overlong_ && !text_.empty() && text_.back() == '\r') text_.pop_back();
        return tail_overlong_ ? Result::overlong : Result::line;
    }

    const std::string& text() const { return text_; }
    uint64_t consumed() const { return consumed_; }  // offset just past the last line returned
    size_t tail_length() const { return tail_length_; }

  private:
    bool refill() {
        if (!in_) return false;
        in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
        len_ = static_cast<size_t>(in_.gcount());
        pos_ = 0;
        if (in_.bad()) throw cdphub::RetryableError("read error");
        return len_ != 0;
    }

    std::ifstream in_;
    std::vector<char> buf_ = std::vector<char>(size_t{64} << 10);
    size_t pos_ = 0, len_ = 0;
    std::string text_;
    uint64_t consumed_;
    size_t max_line_;
    size_t tail_length_ = 0;
    bool tail_overlong_ = false;
};

// Lines in [0, offset) of a file: for a cursor written without "line".
uint64_t count_lines(const fs::path& path, uint64_t offset) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> buf(size_t{64} << 10);
    uint64_t lines = 0;
    while (offset > 0 && in) {
        auto want = static_cast<std::streamsize>(std::min<uint64_t>(buf.size(), offset));
        in.read(buf.data(), want);
        auto got = static_cast<size_t>(in.gcount());
        if (got == 0) break;
        auto end = buf.begin() + static_cast<std::ptrdiff_t>(got);
        lines += static_cast<uint64_t>(std::count(buf.begin(), end, '\n'));
        offset -= got;
    }
    return lines;
}

std::string type_name_with_article(const json& j) {
    std::string t = j.type_name();
    bool vowel = !t.empty() && std::string_view("aeiou").find(t[0]) != std::string_view::npos;
    return (vowel ? "an " : "a ") + t;
}

// Why a line is not a record, or nullopt if it is a JSON object.
std::optional<std::string> line_problem(const std::string& line) {
    // Checked before any parse: parsed, such a line would overflow the stack of what walks it.
    if (cdphub::json_text::exceeds_depth(line))
        return "JSON nested deeper than " + std::to_string(cdphub::json_text::kMaxDepth) +
               " levels";
    // accept() validates without building a tree; valid lines go to the hub byte for byte.
    if (json::accept(line)) {
        size_t first = line.find_first_not_of(" \t\r");
        if (line[first] == '{') return std::nullopt;
        return "not a JSON object but " + type_name_with_article(json::parse(line));
    }
    try {
        json parsed = json::parse(line);  // throws: accept() said the line is not JSON
        (void)parsed;
    } catch (const json::parse_error& e) {
        // Drop the library's "[json.exception.parse_error.101] " prefix: admins read this.
        std::string what = e.what();
        auto pos = what.find("] ");
        return "not valid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2));
    }
    return "not valid JSON";
}

// ---- The connector --------------------------------------------------------------------------

class NdjsonFileSource : public cdphub::Source {
  public:
    NdjsonFileSource(cdphub::Host& host, const json& config)
        : Source(host), settings_(parse_settings(config)) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "ndjson-file";
        i.version = "0.1.0";
        i.name = "NDJSON files";
        i.kind = cdphub::Kind::source;
        i.category = cdphub::Category::other;
        // Draft-07 JSON Schema; the hub validates each instance's config against it.
        i.config_spec = json::parse(R"json({
          "$schema": "http://json-schema.org/draft-07/schema#",
          "title": "NDJSON files",
          "description": "Canonical records, one JSON object per line, from append-only files.",
          "type": "object",
          "additionalProperties": false,
          "required": ["directory"],
          "properties": {
            "directory": {
              "type": "string", "minLength": 1, "x-cdphub-path": true,
              "description": "Folder of the files (relative: to the manifest folder)."
            },
            "pattern": {
              "type": "string", "minLength": 1, "default": "*.ndjson",
              "description": "Glob on file names: * ? [a-z] [!x]. A leading '.' must be literal."
            },
            "batch_size": {
              "type": "integer", "minimum": 1, "maximum": 10000, "default": 500,
              "description": "Records per batch handed to the hub."
            },
            "max_line_bytes": {
              "type": "integer", "minimum": 1024, "maximum": 67108864, "default": 1048576,
              "description": "Longer lines are rejected without being read into memory."
            }
          }
        })json");
        i.capabilities = {
            {"incremental", true},
            {"record_types", json::array({"identify", "track", "order", "alias", "consent"})},
            {"batch", {{"max_records", kMaxBatchSize}, {"max_bytes", kMaxBatchBytes}}},
        };
        return i;
    }

    void check(cdphub::Call&) override {
        const auto& dir = settings_.directory;
        std::error_code ec;
        auto st = fs::status(dir, ec);
        if (ec && ec != std::errc::no_such_file_or_directory)
            throw cdphub::ConfigError("cannot access " + utf8(dir) + ": " + ec.message());
        if (!fs::exists(st))
            throw cdphub::ConfigError("the directory " + utf8(dir) + " does not exist");
        if (!fs::is_directory(st)) throw cdphub::ConfigError(utf8(dir) + " is not a directory");
        auto files = list_files(true);
        for (const auto& name : files) {
            std::ifstream probe(dir / path_from_utf8(name), std::ios::binary);
            if (!probe)
                throw cdphub::ConfigError("the file " + utf8(dir / path_from_utf8(name)) +
                                          " matches the pattern but cannot be read");
        }
        host().info(utf8(dir) + " is readable; " + std::to_string(files.size()) +
                    " file(s) match " + settings_.pattern);
    }

    void read(cdphub::Call& call) override {
        Position start = parse_cursor(call.cursor());
        Run run(call, start);
        auto files = list_files(false);
        // Files before the cursor's are done; the cursor's own file is read from its offset.
        // If that file is gone, reading goes on with the next name.
        auto first = std::lower_bound(files.begin(), files.end(), start.file);
        if (!start.file.empty() && (first == files.end() || *first != start.file))
            host().info("the cursor's file " + start.file +
                        " is no longer there; going on with the next file in name order");
        for (auto it = first; it != files.end(); ++it) {
            bool newest = std::next(it) == files.end();
            read_file(run, *it, *it == start.file ? start : Position{*it}, newest);
        }
        run.finish();
        // Idle polls are frequent; only reads that found something are worth an info line.
        host().log(run.records == 0 ? cdphub::LogLevel::debug : cdphub::LogLevel::info,
                   "read " + std::to_string(run.records) + " record(s) from " +
                       utf8(settings_.directory) + "; cursor " + run.position.to_json().dump());
    }

  private:
    // State of one read call: the batch being built and the positions around it.
    struct Run {
        Run(cdphub::Call& c, const Position& start) : call(c), position(start), committed(start) {}

        cdphub::Call& call;
        std::string batch = "[";
        size_t count = 0;
        Position position;   // just past the last line put in the batch (or skipped)
        Position committed;  // what the hub has stored
        uint64_t records = 0;

        void add(std::string_view record) {
            if (count != 0) batch += ',';
            batch += record;
            ++count;
            ++records;
        }
        // Hands the batch to the hub with the cursor of its end; an empty batch moves only the
        // cursor (past blank lines).
        void flush() {
            if (count == 0 && position == committed) return;
            batch += ']';
            call.emit_raw(batch, position.to_json().dump());
            committed = position;
            batch = "[";
            count = 0;
        }
        void finish() { flush(); }
    };

    // Matching regular files, sorted by name (bytes). With `for_check`, a directory that cannot
    // be listed is a config error; during a read it is retryable, since a mounted share that is
    // briefly away is far more likely then than a folder that check() found and then vanished.
    std::vector<std::string> list_files(bool for_check) const {
        std::error_code ec;
        fs::directory_iterator it(settings_.directory, ec);
        auto fail = [&](const std::error_code& e) {
            std::string m = "cannot list " + utf8(settings_.directory) + ": " + e.message();
            if (for_check) throw cdphub::ConfigError(m);
            throw cdphub::RetryableError(m);
        };
        if (ec) fail(ec);
        std::vector<std::string> names;
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            if (ec) fail(ec);
            std::string name = utf8(it->path().filename());
            if (!glob_match(settings_.pattern, name)) continue;
            std::error_code type_ec;
            if (!it->is_regular_file(type_ec)) continue;
            // The name goes into the cursor, which is JSON: it must be valid UTF-8.
            if (!valid_utf8(name)) {
                host().warn("skipping " +
                            json(name).dump(-1, ' ', false, json::error_handler_t::replace) +
                            ": its name is not valid UTF-8");
                continue;
            }
            names.push_back(std::move(name));
        }
        if (ec) fail(ec);
        std::sort(names.begin(), names.end());
        return names;
    }

    static bool valid_utf8(const std::string& s) {
        try {
            (void)json(s).dump();
            return true;
        } catch (const json::type_error&) {
            return false;
        }
    }

    void read_file(Run& run, const std::string& name, Position from, bool newest) {
        fs::path path = settings_.directory / path_from_utf8(name);
        std::error_code ec;
        auto size = fs::file_size(path, ec);
        if (ec) throw cdphub::RetryableError("cannot read " + utf8(path) + ": " + ec.message());
        if (from.offset > size) {
            // Truncated or replaced: re-reading it all may repeat records (the hub drops them by
            // record_id), skipping could lose some.
            host().warn(utf8(path) + " is shorter (" + std::to_string(size) +
                        " bytes) than the cursor's offset " + std::to_string(from.offset) +
                        "; it was truncated or replaced, so it is read again from the start");
            from.offset = 0;
            from.line = 0;
        } else if (from.offset > 0 && from.line == 0) {
            from.line = count_lines(path, from.offset);
        }
        if (from.offset == size) return;  // nothing new

        LineReader reader(path, from.offset, settings_.max_line_bytes);
        if (!reader.ok())
            throw cdphub::RetryableError("cannot open " + utf8(path) + " for reading");
        uint64_t line = from.line;
        std::vector<uint64_t> bad_lines;
        uint64_t bad_count = 0;
        bool at_start = from.offset == 0;
        for (;;) {
            // Cancellation is honoured between batches, never inside one.
            if (run.count == 0) run.call.throw_if_cancelled();
            auto got = reader.next();
            if (got == LineReader::Result::end) break;
            if (got == LineReader::Result::tail) {
                // The newest file's writer may be mid-line: leave the partial line for the next
                // read. An older file is finished, so its last line simply lacks a line break.
                if (newest) {
                    host().debug(utf8(path) + " ends with " + std::to_string(reader.tail_length()) +
                                 " byte(s) after its last line break; waiting for the rest");
                    break;
                }
                got = reader.accept_tail();
            }
            ++line;
            std::string text = reader.text();
            if (at_start) {
                // A byte order mark is not JSON, but editors on some systems write one.
                if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
                at_start = false;
            }
            std::optional<std::string> problem;
            if (got == LineReader::Result::overlong) {
                problem = "line longer than max_line_bytes (" +
                          std::to_string(settings_.max_line_bytes) + "); only its first " +
                          std::to_string(kExcerptBytes) + " bytes are kept here";
            } else if (text.find_first_not_of(" \t\r") == std::string::npos) {
                // A blank line is no record; only the cursor moves past it.
            } else {
                problem = line_problem(text);
                if (!problem) run.add(text);
            }
            if (problem) {
                json invalid = {
                    {"_raw", text}, {"_error", *problem}, {"_file", name}, {"_line", line}};
                // The raw text may hold invalid UTF-8; replacing it keeps the batch valid JSON.
                run.add(invalid.dump(-1, ' ', false, json::error_handler_t::replace));
                if (bad_lines.size() < kListedBadLines) bad_lines.push_back(line);
                ++bad_count;
            }
            run.position = Position{name, reader.consumed(), line};
            if (run.count >= settings_.batch_size || run.batch.size() >= kMaxBatchBytes)
                run.flush();
        }
        if (bad_count != 0) {
            std::string where;
            for (auto l : bad_lines)
                where += (where.empty() ? "" : ", ") + name + ":" + std::to_string(l);
            if (bad_count > bad_lines.size()) where += ", ...";
            host().warn(std::to_string(bad_count) + " line(s) of " + utf8(path) +
                        " are not JSON objects (" + where +
                        "); they were passed on for the hub to reject with the reason");
        }
    }

    Settings settings_;
};

}  // namespace

CDPHUB_PLUGIN(NdjsonFileSource)
