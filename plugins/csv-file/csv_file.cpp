// csv-file: a source that maps the rows of CSV files in a directory (POS exports) to canonical
// records, as the manifest's "mapping" says, incrementally and in constant memory. See README.md.
//
// The cursor is {"file": name, "offset": bytes, "line": lines} and points just past the last
// row handed to the hub; every batch carries the cursor of its own end, so a crash repeats at
// most one batch, which the store drops by record_id. A row that cannot be mapped becomes
//   {"_raw": "<row>", "_error": "<why>", "_file": "<name>", "_line": N}
// which the hub rejects with that reason; nothing is dropped silently.
#include <fnmatch.h>
#include <sys/stat.h>

#include <cdphub/sdk.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "csv_reader.hpp"
#include "row_mapping.hpp"

namespace {

namespace fs = std::filesystem;
using cdphub::json;
using namespace cdphub::csv;

struct Settings {
    std::string directory;
    std::string pattern = "*.csv";
    size_t batch_size = 500;
    char delimiter = ',';
    char decimal_separator = '.';
    int64_t settle_seconds = 10;
    size_t max_record_bytes = size_t{1} << 20;
    std::string tzdata_dir = "/usr/share/zoneinfo";
    json mapping;

    static Settings parse(const json& c) {
        Settings s;
        if (!c.is_object()) throw cdphub::ConfigError("config must be a JSON object");
        if (!c.contains("directory") || !c["directory"].is_string() ||
            c["directory"].get<std::string>().empty())
            throw cdphub::ConfigError("\"directory\" is required: the folder of the CSV files");
        std::error_code ec;
        auto abs = fs::absolute(c["directory"].get<std::string>(), ec);
        s.directory = ec ? c["directory"].get<std::string>() : abs.string();
        s.pattern = c.value("pattern", s.pattern);
        if (s.pattern.empty() || s.pattern.find('/') != std::string::npos)
            throw cdphub::ConfigError("\"pattern\" must be a non-empty glob on file names");
        s.batch_size = c.value("batch_size", s.batch_size);
        if (s.batch_size < 1 || s.batch_size > 10000)
            throw cdphub::ConfigError("\"batch_size\" must be from 1 to 10000");
        auto one_char = [&](const char* key, char def) {
            if (!c.contains(key)) return def;
            const std::string v = c[key].get<std::string>();
            if (v == "\\t" || v == "\t") return '\t';
            if (v.size() != 1 || v[0] == '"' || v[0] == '\n' || v[0] == '\r')
                throw cdphub::ConfigError(std::string("\"") + key + "\" must be one character");
            return v[0];
        };
        s.delimiter = one_char("delimiter", ',');
        s.decimal_separator = one_char("decimal_separator", '.');
        if (s.decimal_separator != '.' && s.decimal_separator != ',')
            throw cdphub::ConfigError("\"decimal_separator\" must be \".\" or \",\"");
        s.settle_seconds = c.value("settle_seconds", s.settle_seconds);
        s.max_record_bytes = c.value("max_record_bytes", s.max_record_bytes);
        if (s.max_record_bytes < 1024) throw cdphub::ConfigError("\"max_record_bytes\" >= 1024");
        s.tzdata_dir = c.value("tzdata_dir", s.tzdata_dir);
        if (!c.contains("mapping"))
            throw cdphub::ConfigError("\"mapping\" is required: which columns make the record");
        s.mapping = c["mapping"];
        return s;
    }
};

struct Position {
    std::string file;
    uint64_t offset = 0, line = 0;
    json to_json() const { return {{"file", file}, {"offset", offset}, {"line", line}}; }
};

Position parse_cursor(const json& c) {
    Position p;
    if (c.is_null()) return p;
    if (!c.is_object() || !c.contains("file") || !c["file"].is_string() || !c.contains("offset") ||
        !c["offset"].is_number_unsigned())
        throw cdphub::FatalError("the stored cursor " + c.dump().substr(0, 200) +
                                 " is not {\"file\", \"offset\", \"line\"}; reset this "
                                 "instance's cursor to read the directory again");
    p.file = c["file"].get<std::string>();
    p.offset = c["offset"].get<uint64_t>();
    p.line = c.value("line", uint64_t{0});
    return p;
}

class CsvFileSource : public cdphub::Source {
  public:
    CsvFileSource(cdphub::Host& host, const json& config)
        : Source(host),
          s_(Settings::parse(config)),
          mapping_(s_.mapping, s_.tzdata_dir, s_.decimal_separator) {}

    static cdphub::PluginInfo info() {
        cdphub::PluginInfo i;
        i.id = "csv-file";
        i.version = "1.0.0";
        i.name = "CSV files (POS exports), mapped by the manifest";
        i.kind = cdphub::Kind::source;
        i.category = cdphub::Category::pos;
        i.config_spec = json::parse(R"json({
          "type": "object", "additionalProperties": false,
          "required": ["directory", "mapping"],
          "properties": {
            "directory": {"type": "string", "minLength": 1, "x-cdphub-path": true},
            "pattern": {"type": "string", "minLength": 1, "default": "*.csv"},
            "batch_size": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 500},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 2, "default": ","},
            "decimal_separator": {"enum": [".", ","], "default": "."},
            "settle_seconds": {"type": "integer", "minimum": 0, "default": 10,
              "description": "The newest file's last row without a line break is read once the file is this old."},
            "max_record_bytes": {"type": "integer", "minimum": 1024, "default": 1048576},
            "tzdata_dir": {"type": "string", "default": "/usr/share/zoneinfo"},
            "mapping": {"type": "object", "required": ["record_id", "occurred_at"],
              "additionalProperties": false,
              "properties": {
                "type": {"enum": ["order", "identify", "track"], "default": "order"},
                "record_id": {"type": ["string", "array"], "items": {"type": "string"}},
                "record_id_prefix": {"type": "string"},
                "event": {"type": "string", "minLength": 1},
                "identifiers": {"type": "object", "additionalProperties": {"type": "string"}},
                "traits": {"type": "object", "additionalProperties": {"type": "string"}},
                "properties": {"type": "object", "additionalProperties": {"type": "string"}},
                "occurred_at": {"type": "object", "additionalProperties": false, "properties": {
                  "column": {"type": "string"}, "date": {"type": "string"}, "time": {"type": "string"},
                  "date_format": {"enum": ["iso", "us", "eu"]}, "time_zone": {"type": "string"},
                  "time_zone_column": {"type": "string"}}},
                "order": {"type": "object", "additionalProperties": false, "properties": {
                  "id": {"type": "string"}, "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                  "currency_column": {"type": "string"}, "total": {"type": "string"},
                  "tax": {"type": "string"}, "discount": {"type": "string"},
                  "status": {"type": "string"}, "refund_status": {"type": "string"}}},
                "line": {"type": "object", "additionalProperties": false, "properties": {
                  "sku": {"type": "string"}, "name": {"type": "string"},
                  "quantity": {"type": "string"}, "price": {"type": "string"}}}
              }}
          }})json");
        i.capabilities = {{"incremental", true},
                          {"record_types", {"order", "identify", "track"}},
                          {"batch", {{"max_records", 10000}}}};
        return i;
    }

    void check(cdphub::Call&) override {
        std::error_code ec;
        if (!fs::is_directory(s_.directory, ec))
            throw cdphub::ConfigError("the directory " + s_.directory + " does not exist");
        auto files = list(true);
        for (const auto& f : files) header_of(f);  // every header must have the mapped columns
        host().info(s_.directory + ": " + std::to_string(files.size()) + " file(s) match " +
                    s_.pattern + ", and their headers have every mapped column");
    }

    void read(cdphub::Call& call) override {
        const Position start = parse_cursor(call.cursor_json());
        auto files = list(false);
        auto first = std::lower_bound(files.begin(), files.end(), start.file);
        Batch b{call, "[", 0, start, start};
        for (auto it = first; it != files.end(); ++it)
            read_file(b, *it, *it == start.file ? start : Position{*it, 0, 0},
                      std::next(it) == files.end());
        b.flush();
    }

  private:
    struct Batch {
        cdphub::Call& call;
        std::string text;
        size_t count;
        Position position, committed;
        void add(const std::string& rec) {
            text += (count ? "," : "") + rec;
            ++count;
        }
        void flush() {
            if (count == 0 && position.file == committed.file &&
                position.offset == committed.offset)
                return;
            call.emit_raw(text + "]", position.to_json().dump());
            committed = position;
            text = "[";
            count = 0;
        }
    };

    std::vector<std::string> list(bool for_check) const {
        std::vector<std::string> names;
        std::error_code ec;
        fs::directory_iterator it(s_.directory, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const std::string n = it->path().filename().string();
            std::error_code tec;
            if (it->is_regular_file(tec) && fnmatch(s_.pattern.c_str(), n.c_str(), FNM_PERIOD) == 0)
                names.push_back(n);
        }
        if (ec) {
            const std::string m = "cannot list " + s_.directory + ": " + ec.message();
            if (for_check) throw cdphub::ConfigError(m);
            throw cdphub::RetryableError(m);
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    // The header row (BOM removed) and the offset and line just past it; checked against the
    // mapping, since a file without a mapped column cannot give a single good row.
    std::pair<std::vector<std::string>, Position> header_of(const std::string& name) const {
        CsvReader r(s_.directory + "/" + name, 0, s_.delimiter, s_.max_record_bytes);
        if (!r.ok()) throw cdphub::RetryableError("cannot open " + s_.directory + "/" + name);
        auto got = r.next();
        if (got == CsvReader::Result::end || got == CsvReader::Result::tail)
            return {{}, Position{name, 0, 0}};  // no complete header yet
        std::vector<std::string> h = r.fields();
        if (!h.empty() && h[0].compare(0, 3, "\xEF\xBB\xBF") == 0) h[0].erase(0, 3);
        for (auto& c : h) c = Row::trim(c);
        std::string missing;
        for (const auto& col : mapping_.columns())
            if (std::find(h.begin(), h.end(), col) == h.end())
                missing += (missing.empty() ? "\"" : ", \"") + col + "\"";
        if (!missing.empty())
            throw cdphub::ConfigError(s_.directory + "/" + name + " has no column " + missing +
                                      " that the mapping reads; its header is: " +
                                      json(h).dump(-1, ' ', false, json::error_handler_t::replace));
        return {h, Position{name, r.consumed(), r.lines()}};
    }

    bool settled(const std::string& path) const {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return false;
        return std::time(nullptr) - st.st_mtime >= s_.settle_seconds;
    }

    void read_file(Batch& b, const std::string& name, Position from, bool newest) {
        const std::string path = s_.directory + "/" + name;
        auto [header, after_header] = header_of(name);
        if (header.empty()) return;  // the writer has not finished the header line
        std::error_code ec;
        const auto size = fs::file_size(path, ec);
        if (ec) throw cdphub::RetryableError("cannot read " + path + ": " + ec.message());
        if (from.offset > size) {
            host().warn(path +
                        " is shorter than the cursor's offset; it was replaced, so it is "
                        "read again from the start");
            from = Position{name, 0, 0};
        }
        if (from.offset < after_header.offset) from = after_header;
        if (from.offset == size) return;
        CsvReader r(path, from.offset, s_.delimiter, s_.max_record_bytes);
        if (!r.ok()) throw cdphub::RetryableError("cannot open " + path);
        uint64_t line = from.line;
        uint64_t bad = 0;
        for (;;) {
            if (b.count == 0) b.call.throw_if_cancelled();
            auto got = r.next();
            if (got == CsvReader::Result::end) break;
            std::string problem;
            if (got == CsvReader::Result::tail) {
                // The newest file's writer may be mid-row; an older or settled file is complete.
                if (newest && !settled(path)) break;
                if (!r.accept_tail())
                    problem = r.tail_unterminated_quote()
                                  ? "the file ends inside a quoted field (a quote is not closed)"
                                  : "row longer than max_record_bytes";
            } else if (got == CsvReader::Result::overlong) {
                problem = "row longer than max_record_bytes (" +
                          std::to_string(s_.max_record_bytes) + ")";
            }
            const uint64_t row_line = line + 1;
            line += std::max<uint64_t>(r.lines(), 1);
            const auto& cells = r.fields();
            const bool blank = cells.size() == 1 && Row::trim(cells[0]).empty();
            if (problem.empty() && !blank) {
                if (cells.size() != header.size()) {
                    problem = "the row has " + std::to_string(cells.size()) +
                              " field(s), the header " + std::to_string(header.size());
                } else {
                    auto m = mapping_.map(Row{header, cells});
                    if (auto* rec = std::get_if<json>(&m))
                        b.add(rec->dump(-1, ' ', false, json::error_handler_t::replace));
                    else
                        problem = std::get<RowError>(m).message;
                }
            }
            if (!problem.empty()) {
                json inv = {
                    {"_raw", r.raw()}, {"_error", problem}, {"_file", name}, {"_line", row_line}};
                b.add(inv.dump(-1, ' ', false, json::error_handler_t::replace));
                ++bad;
            }
            b.position = Position{name, r.consumed(), line};
            if (b.count >= s_.batch_size) b.flush();
        }
        if (bad)
            host().warn(std::to_string(bad) + " row(s) of " + path +
                        " could not be mapped; they were passed on for the hub to reject with "
                        "the reason (cdphub rejected)");
    }

    Settings s_;
    Mapping mapping_;
};

}  // namespace

CDPHUB_PLUGIN(CsvFileSource)
