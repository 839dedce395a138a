// A streaming RFC 4180 reader that knows exact byte offsets, so a cursor can point just past the
// last record handed to the hub even when quoted fields hold line breaks.
//
// - Fields are separated by `delimiter`, records by LF or CRLF (a lone CR inside a quoted field
//   is kept). A quoted field may hold delimiters, line breaks and doubled quotes ("").
// - A quote inside an unquoted field is taken literally, as spreadsheet exports write it.
// - A record longer than max_record_bytes is reported as overlong and skipped to its end without
//   holding it in memory (an unterminated quote otherwise swallows the rest of a file).
// - At end of file, bytes after the last record terminator form the `tail`: the caller decides
//   whether the writer is done with them (accept_tail) or not (leave them for the next read).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace cdphub::csv {

class CsvReader {
  public:
    enum class Result { record, overlong, tail, end };

    CsvReader(const std::string& path, uint64_t offset, char delimiter, size_t max_record_bytes)
        : in_(path, std::ios::binary),
          consumed_(offset),
          delim_(delimiter),
          max_(max_record_bytes) {
        if (in_) in_.seekg(static_cast<std::streamoff>(offset));
    }
    bool ok() const { return static_cast<bool>(in_) || in_.eof(); }

    // Reads the next record into fields()/raw(). lines() is how many line breaks it spanned.
    Result next() {
        fields_.clear();
        raw_.clear();
        field_.clear();
        lines_ = 0;
        pending_ = 0;
        cr_ = false;
        bool quoted = false, after_quote = false, field_started = false, overlong = false;
        for (;;) {
            if (pos_ == len_ && !refill()) {
                if (pending_ == 0) return Result::end;
                fields_.push_back(field_);
                tail_unterminated_quote_ = quoted;
                tail_overlong_ = overlong;
                return Result::tail;
            }
            const char c = buf_[pos_++];
            ++pending_;
            if (!overlong && raw_.size() < max_) {
                raw_ += c;
            } else if (!overlong) {
                overlong = true;
            }
            if (quoted) {
                if (c == '"') {
                    quoted = false;
                    after_quote = true;
                } else {
                    if (c == '\n') ++lines_;
                    field_ += c;
                }
                continue;
            }
            // A CR outside quotes is held back: dropped if LF follows (CRLF), else kept.
            if (c == '\r') {
                cr_ = true;
                continue;
            }
            if (cr_ && c != '\n') {
                field_ += '\r';
                field_started = true;
            }
            cr_ = false;
            if (c == '"') {
                if (after_quote) {  // "" inside a quoted field: one literal quote
                    field_ += '"';
                    quoted = true;
                    after_quote = false;
                } else if (!field_started) {
                    quoted = true;
                    field_started = true;
                } else {
                    field_ += c;  // a stray quote in an unquoted field
                }
                continue;
            }
            after_quote = false;
            if (c == delim_) {
                fields_.push_back(field_);
                field_.clear();
                field_started = false;
                continue;
            }
            if (c == '\n') {
                ++lines_;
                fields_.push_back(field_);
                consumed_ += pending_;
                pending_ = 0;
                if (!raw_.empty() && raw_.back() == '\n') raw_.pop_back();
                if (!raw_.empty() && raw_.back() == '\r') raw_.pop_back();
                return overlong ? Result::overlong : Result::record;
            }
            field_ += c;
            field_started = true;
        }
    }

    // Takes the tail last returned by next() as a complete record (its file is finished).
    // Returns false if it ends inside a quoted field, which no writer finishes later.
    bool accept_tail() {
        consumed_ += pending_;
        pending_ = 0;
        if (!raw_.empty() && raw_.back() == '\r') raw_.pop_back();
        return !tail_unterminated_quote_ && !tail_overlong_;
    }
    bool tail_unterminated_quote() const { return tail_unterminated_quote_; }

    const std::vector<std::string>& fields() const { return fields_; }
    const std::string& raw() const { return raw_; }  // the record's text (first max bytes)
    uint64_t lines() const { return lines_; }
    uint64_t consumed() const { return consumed_; }  // offset just past the last record returned
    uint64_t pending() const { return pending_; }

  private:
    bool refill() {
        if (!in_) return false;
        in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
        len_ = static_cast<size_t>(in_.gcount());
        pos_ = 0;
        return len_ != 0;
    }

    std::ifstream in_;
    std::vector<char> buf_ = std::vector<char>(size_t{64} << 10);
    size_t pos_ = 0, len_ = 0;
    uint64_t consumed_;
    uint64_t pending_ = 0;  // bytes of the record being read
    char delim_;
    size_t max_;
    std::vector<std::string> fields_;
    std::string field_, raw_;
    uint64_t lines_ = 0;
    bool tail_unterminated_quote_ = false, tail_overlong_ = false;
    bool cr_ = false;  // a CR outside quotes, waiting to see whether LF follows
};

}  // namespace cdphub::csv
