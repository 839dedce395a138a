// Hand-written JSON output for speed: a small builder that appends to a std::string, and a
// buffered file writer. Strings are escaped per RFC 8259; UTF-8 passes through unchanged.
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace cdphub::gen {

inline void append_int(std::string& o, int64_t v) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    o.append(buf, end);
}

// Zero-padded unsigned decimal of exactly `width` digits (v must fit).
inline void append_padded(std::string& o, uint64_t v, int width) {
    char buf[24];
    for (int i = width - 1; i >= 0; --i) {
        buf[i] = static_cast<char>('0' + v % 10);
        v /= 10;
    }
    o.append(buf, static_cast<size_t>(width));
}

inline void append_json_string(std::string& o, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    o += '"';
    size_t run = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        o.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                o += "\\\"";
                break;
            case '\\':
                o += "\\\\";
                break;
            case '\n':
                o += "\\n";
                break;
            case '\r':
                o += "\\r";
                break;
            case '\t':
                o += "\\t";
                break;
            default:
                o += "\\u00";
                o += kHex[c >> 4];
                o += kHex[c & 15];
        }
    }
    o.append(s.data() + run, s.size() - run);
    o += '"';
}

// Appends one JSON value at a time; tracks commas for nested objects and arrays.
class Json {
  public:
    explicit Json(std::string& out) : o_(out) {}

    Json& obj() {
        prefix();
        o_ += '{';
        push(false);
        return *this;
    }
    Json& arr() {
        prefix();
        o_ += '[';
        push(true);
        return *this;
    }
    Json& end() {
        --depth_;
        o_ += array_[depth_] ? ']' : '}';
        return *this;
    }
    // `k` must not need escaping (all keys here are literals).
    Json& key(std::string_view k) {
        if (!first_[depth_ - 1]) o_ += ',';
        first_[depth_ - 1] = false;
        o_ += '"';
        o_.append(k);
        o_ += "\":";
        return *this;
    }
    Json& str(std::string_view v) {
        prefix();
        append_json_string(o_, v);
        return *this;
    }
    Json& num(int64_t v) {
        prefix();
        append_int(o_, v);
        return *this;
    }
    // A decimal number with two fraction digits from hundredths: 123456 -> 1234.56.
    Json& decimal2(int64_t hundredths) {
        prefix();
        if (hundredths < 0) {
            o_ += '-';
            hundredths = -hundredths;
        }
        append_int(o_, hundredths / 100);
        o_ += '.';
        append_padded(o_, static_cast<uint64_t>(hundredths % 100), 2);
        return *this;
    }
    Json& boolean(bool v) {
        prefix();
        o_ += v ? "true" : "false";
        return *this;
    }
    Json& null() {
        prefix();
        o_ += "null";
        return *this;
    }
    // Pre-formatted JSON text.
    Json& raw(std::string_view v) {
        prefix();
        o_.append(v);
        return *this;
    }
    std::string& out() { return o_; }

  private:
    void prefix() {
        if (depth_ > 0 && array_[depth_ - 1]) {
            if (!first_[depth_ - 1]) o_ += ',';
            first_[depth_ - 1] = false;
        }
    }
    void push(bool is_array) {
        array_[depth_] = is_array;
        first_[depth_] = true;
        ++depth_;
    }

    std::string& o_;
    std::array<bool, 16> array_{};
    std::array<bool, 16> first_{};
    int depth_ = 0;
};

// A file written through a 1 MiB buffer. Throws std::runtime_error on I/O errors.
class OutputFile {
  public:
    explicit OutputFile(const std::filesystem::path& path);
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile();

    void line(std::string_view text) {
        buf_.append(text);
        buf_ += '\n';
        ++lines_;
        if (buf_.size() >= kFlushAt) flush();
    }
    void write(std::string_view text) {
        buf_.append(text);
        if (buf_.size() >= kFlushAt) flush();
    }
    // Flushes and closes; errors throw here rather than being lost in the destructor.
    void close();
    uint64_t bytes() const { return bytes_ + buf_.size(); }
    uint64_t lines() const { return lines_; }

  private:
    static constexpr size_t kFlushAt = 1 << 20;
    void flush();

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
    std::string buf_;
    uint64_t bytes_ = 0;
    uint64_t lines_ = 0;
};

}  // namespace cdphub::gen
