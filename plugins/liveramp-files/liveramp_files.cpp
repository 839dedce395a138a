// liveramp-files: LiveRamp file onboarding. Each write() merges the batch's membership changes
// into the day's CSV for the segment ({segment}_{YYYY-MM-DD}.csv in the drop folder): one row per
// person, SHA-256 hashes of LiveRamp-normalised identifiers, and a membership column (1 = in the
// segment, 0 = left). Files are replaced atomically (hidden temp file, fsync, rename), so an
// uploader polling the folder never ships half a file. See README.md.
#include <fcntl.h>
#include <unistd.h>
#include <cdphub/sdk.hpp>
#include <cdphub_plugins/sha256.hpp>
#include <cdphub_plugins/web.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "settings.hpp"

namespace cdphub::liveramp {
namespace {

namespace fs = std::filesystem;

// LiveRamp's normalisation before hashing: emails trimmed and lower-cased; phones digits only,
// US/NANP numbers as 10 digits (no leading country code 1), others with their country code.
std::optional<std::string> hashed(const std::string& type, const std::string& raw) {
    std::string v = raw;
    const auto b = v.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return std::nullopt;
    v = v.substr(b, v.find_last_not_of(" \t\r\n") - b + 1);
    std::string low = v;
    for (auto& c : low)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (plugins::is_sha256_hex(low)) return low;  // already a digest
    if (type == "email") {
        if (low.find('@') == std::string::npos) return std::nullopt;
        return plugins::sha256_hex(low);
    }
    std::string digits;
    for (char c : v)
        if (c >= '0' && c <= '9') digits += c;
    if (digits.size() == 11 && digits[0] == '1') digits.erase(0, 1);
    if (digits.size() < 7) return std::nullopt;
    return plugins::sha256_hex(digits);
}

std::string csv_cell(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// The cells of CSV text, row by row (RFC 4180 quoting).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string cell;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cell += c;
            }
            continue;
        }
        if (c == '"') {
            quoted = any = true;
        } else if (c == ',') {
            row.push_back(std::move(cell));
            cell.clear();
            any = true;
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            if (any || !cell.empty()) {
                row.push_back(std::move(cell));
                rows.push_back(std::move(row));
            }
            row.clear();
            cell.clear();
            any = false;
        } else {
            cell += c;
            any = true;
        }
    }
    if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
    }
    return rows;
}

// An open file descriptor, closed when it goes.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

  private:
    int fd_;
};

// The SDK error for a failed file-system call: a folder that is missing or not ours is the
// admin's to fix; anything else (disk full, I/O) may pass.
[[noreturn]] void fs_fail(const std::string& what, int err) {
    const std::string msg = what + ": " + std::strerror(err);
    if (err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM || err == EROFS)
        throw ConfigError(msg + " (check drop_folder: it must exist and be writable)");
    throw RetryableError(msg);
}

// Writes `content` to `path` atomically: a hidden temp file beside it, fsync, rename, fsync of
// the folder. A crash leaves either the old file or the new one, never a mix.
void write_atomically(const fs::path& path, const std::string& content) {
    const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) fs_fail("cannot create " + tmp.string(), errno);
        std::size_t done = 0;
        while (done < content.size()) {
            const auto n = ::write(fd.get(), content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                const int err = errno;
                ::unlink(tmp.c_str());
                fs_fail("cannot write " + tmp.string(), err);
            }
            done += static_cast<std::size_t>(n);
        }
        if (::fsync(fd.get()) != 0) {
            const int err = errno;
            ::unlink(tmp.c_str());
            fs_fail("cannot sync " + tmp.string(), err);
        }
        if (::close(fd.release()) != 0) fs_fail("cannot close " + tmp.string(), errno);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        fs_fail("cannot rename " + tmp.string() + " to " + path.string(), err);
    }
    Fd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0) ::fsync(dir.get());
}

std::string sanitized(const std::string& s) {
    std::string out;
    for (char c : s)
        out +=
            ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
    return out.empty() ? "segment" : out;
}

struct Row {
    std::size_t index;
    std::vector<std::string> cells;  // one per column, then the membership flag
};

class LiveRampFilesDestination : public Destination {
  public:
    LiveRampFilesDestination(Host& host, const json& config)
        : Destination(host), s_(parse_settings(config)) {}

    static PluginInfo info() {
        PluginInfo i;
        i.id = "liveramp-files";
        i.version = "0.1.0";
        i.name = "LiveRamp file onboarding (CSV)";
        i.kind = Kind::destination;
        i.category = Category::dmp;
        i.config_spec = config_spec();
        i.capabilities = {
            {"batch", {{"max_records", 10000}, {"max_bytes", 64 << 20}}},
            {"identifier_types", json::array({"email", "phone", "email_sha256", "phone_sha256"})}};
        return i;
    }

    void check(Call&) override {
        std::error_code ec;
        if (!fs::is_directory(s_.drop_folder, ec))
            throw ConfigError("drop_folder " + s_.drop_folder + " is not an existing folder");
        write_atomically(fs::path(s_.drop_folder) / ".cdphub-check", "ok\n");
        fs::remove(fs::path(s_.drop_folder) / ".cdphub-check", ec);
    }

    void write(Call& call, const json& batch) override {
        std::error_code ec;
        if (!fs::is_directory(s_.drop_folder, ec))
            throw ConfigError("drop_folder " + s_.drop_folder +
                              " is not an existing folder; create it (and its uploader) first");
        const std::string date = plugins::format_utc_ms(host().now_ms()).substr(0, 10);
        std::map<std::string, std::vector<Row>> files;  // file base name -> rows
        for (std::size_t i = 0; i < batch.size(); ++i) {
            const auto& op = batch[i];
            const auto fields = op.value("fields", json::object());
            Row row{i, {}};
            bool any = false;
            for (const auto& col : s_.columns) {
                std::optional<std::string> h;
                auto it = fields.find(col.field);
                if (it != fields.end() && it->is_string())
                    h = hashed(col.type, it->get<std::string>());
                any = any || h.has_value();
                row.cells.push_back(h.value_or(""));
            }
            if (!any) {
                call.report_record(i, Status::invalid_record,
                                   "no usable email or phone for LiveRamp in the mapped fields; "
                                   "map them in the binding or filter such profiles out");
                continue;
            }
            row.cells.push_back(op.value("op", "upsert") == "remove" ? "0" : "1");
            const auto segment = s_.segment_name.empty() ? sanitized(op.value("segment", "segment"))
                                                         : s_.segment_name;
            files[segment + "_" + date].push_back(std::move(row));
        }
        for (auto& [base, rows] : files) {
            call.throw_if_cancelled();
            merge_into(base, rows);
            for (const auto& r : rows) call.report_record(r.index, Status::ok);
        }
    }

  private:
    std::string header() const {
        std::string h;
        for (const auto& c : s_.columns) h += c.name + ",";
        return h + s_.membership_column;
    }

    fs::path part(const std::string& base, int n) const {
        return fs::path(s_.drop_folder) /
               (n == 1 ? base + ".csv" : base + "_" + std::to_string(n) + ".csv");
    }

    // Merges `rows` into the day's last file for `base`: a person's later row replaces their
    // earlier one (the key is the identifier cells). A file that would grow past max_file_bytes,
    // or that has another header, is left alone and the rows start the next part.
    void merge_into(const std::string& base, const std::vector<Row>& rows) {
        int n = 1;
        while (fs::exists(part(base, n + 1))) ++n;
        std::vector<std::vector<std::string>> merged;
        std::map<std::string, std::size_t> at;
        auto key = [](const std::vector<std::string>& cells) {
            std::string k;
            for (std::size_t c = 0; c + 1 < cells.size(); ++c) k += cells[c] + ",";
            return k;
        };
        const fs::path last = part(base, n);
        bool fresh = !fs::exists(last);
        if (!fresh) {
            std::ifstream in(last, std::ios::binary);
            if (!in) fs_fail("cannot read " + last.string(), errno);
            std::ostringstream text;
            text << in.rdbuf();
            auto existing = parse_csv(text.str());
            const auto want = parse_csv(header() + "\n");
            if (existing.empty() || existing[0] != want[0]) {
                ++n;
                fresh = true;
            } else {
                for (std::size_t r = 1; r < existing.size(); ++r) {
                    if (existing[r].size() != s_.columns.size() + 1) continue;
                    at[key(existing[r])] = merged.size();
                    merged.push_back(std::move(existing[r]));
                }
            }
        }
        const auto before = merged.size();
        for (const auto& r : rows) {
            auto k = key(r.cells);
            if (auto it = at.find(k); it != at.end()) {
                merged[it->second] = r.cells;
            } else {
                at[k] = merged.size();
                merged.push_back(r.cells);
            }
        }
        std::string out = render(merged);
        if (out.size() <= s_.max_file_bytes || merged.size() <= 1) {
            write_atomically(part(base, n), out);
            return;
        }
        // Too big for one file: the day's file stays as it was, and the batch's rows fill as
        // many new parts as they need (a later part's row supersedes an earlier one's).
        if (!fresh && before > 0) ++n;
        std::vector<std::vector<std::string>> chunk;
        std::size_t bytes = header().size() + 1;
        for (const auto& r : rows) {
            const auto size = render({r.cells}).size() - header().size() - 1;
            if (!chunk.empty() && bytes + size > s_.max_file_bytes) {
                write_atomically(part(base, n++), render(chunk));
                chunk.clear();
                bytes = header().size() + 1;
            }
            chunk.push_back(r.cells);
            bytes += size;
        }
        if (!chunk.empty()) write_atomically(part(base, n), render(chunk));
    }

    std::string render(const std::vector<std::vector<std::string>>& rows) const {
        std::string out = header() + "\n";
        for (const auto& r : rows) {
            for (std::size_t c = 0; c < r.size(); ++c) {
                if (c > 0) out += ',';
                out += csv_cell(r[c]);
            }
            out += '\n';
        }
        return out;
    }

    Settings s_;
};

}  // namespace
}  // namespace cdphub::liveramp

CDPHUB_PLUGIN(cdphub::liveramp::LiveRampFilesDestination)
