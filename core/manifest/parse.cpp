#include "manifest/parse.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

namespace cdphub::manifest::detail {
namespace {

using Json = nlohmann::json;

// Catches the first syntax error: where it is and the parser's own description of it.
class ErrorCatcher final : public nlohmann::json_sax<Json> {
  public:
    size_t position = 0;  // 1-based index of the last byte read, as the parser counts
    std::string what;

    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t pos, const std::string&,
                     const nlohmann::detail::exception& ex) override {
        position = pos;
        what = ex.what();
        return false;
    }
};

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '+' ||
           c == '.';
}

size_t word_start(std::string_view t, size_t at) {
    if (at >= t.size()) return at;
    if (!is_word_char(t[at]) && at > 0 && is_word_char(t[at - 1])) --at;
    while (at > 0 && is_word_char(t[at - 1])) --at;
    return at;
}

// `at` is the closing quote of a string the lexer accepted: find its opening quote.
size_t string_start(std::string_view t, size_t at) {
    for (size_t j = at; j-- > 0;) {
        if (t[j] != '"') continue;
        size_t backslashes = 0;
        while (j > backslashes && t[j - 1 - backslashes] == '\\') ++backslashes;
        if (backslashes % 2 == 0) return j;
    }
    return at;
}

size_t previous_non_space(std::string_view t, size_t at) {
    while (at > 0 && std::isspace(static_cast<unsigned char>(t[at - 1])) != 0) --at;
    return at > 0 ? at - 1 : std::string_view::npos;
}

// "unexpected string literal", "unexpected '{'", ...: a value where a separator should be.
bool starts_value(std::string_view detail) {
    for (std::string_view token : {"string literal", "number literal", "true literal",
                                   "false literal", "null literal", "'['", "'{'"}) {
        if (detail.starts_with("unexpected ") && detail.substr(11).starts_with(token)) return true;
    }
    return false;
}

struct Explained {
    size_t offset;
    std::string message;
    std::string hint;
};

// Turns the parser's terse report ("syntax error while parsing object - unexpected string literal;
// expected '}'") into what an admin would say, and finds the byte where the problem starts. Only
// the parser's own words are reused; "last read: '...'" (the file's text) never is.
Explained explain(std::string_view t, size_t position, const std::string& what) {
    Explained e{position > 0 ? std::min(position - 1, t.size()) : 0, "", ""};
    auto after = [&](std::string_view marker) -> std::string {
        auto at = what.find(marker);
        return at == std::string::npos ? "" : what.substr(at + marker.size());
    };
    std::string context = after("syntax error while parsing ");
    std::string detail = after(" - ");
    context = context.substr(0, context.find(" - "));
    std::string expected = after("; expected ");
    bool at_end = detail.starts_with("unexpected end of input");
    // Where the offending token starts: the parser reports where it stopped reading it.
    size_t token = e.offset;
    if (detail.starts_with("unexpected string")) {
        token = string_start(t, e.offset);
    } else if (detail.starts_with("invalid") || detail.find(" literal") != std::string::npos) {
        token = word_start(t, e.offset);
    }
    size_t before = previous_non_space(t, e.offset);
    if (at_end) {
        bool blank = t.find_first_not_of(" \t\r\n\xEF\xBB\xBF") == std::string_view::npos;
        e.offset = blank ? 0 : t.size();
        e.message = blank ? "the file is empty" : "the file ends before the JSON is complete";
        e.hint = blank ? "write a JSON object: {}" : "check for a missing '}', ']' or '\"'";
    } else if (expected == "end of input") {
        e.offset = token;
        e.message = "unexpected text after the end of the JSON document";
        e.hint = "a manifest file holds exactly one JSON object";
    } else if (context == "object key" && detail.starts_with("unexpected '}'") &&
               before != std::string_view::npos && t[before] == ',') {
        e.offset = before;
        e.message = "trailing comma before '}'";
        e.hint = "JSON allows no ',' after the last member; remove it";
    } else if (context == "value" && detail.starts_with("unexpected ']'") &&
               before != std::string_view::npos && t[before] == ',') {
        e.offset = before;
        e.message = "trailing comma before ']'";
        e.hint = "JSON allows no ',' after the last item; remove it";
    } else if ((context == "object" || context == "array") && starts_value(detail)) {
        e.offset = token;
        e.message = context == "object" ? "missing ',' between two members"
                                        : "missing ',' between two items";
        e.hint = "separate them with a comma";
    } else if (context == "object separator") {
        e.offset = token;
        e.message = "missing ':' after a key";
        e.hint = "write \"key\": value";
    } else if (detail.starts_with("invalid literal")) {
        e.offset = token;
        char c = e.offset < t.size() ? t[e.offset] : '\0';
        if (c == '/' || c == '#') {
            e.message = "comments are not allowed in JSON";
            e.hint = "remove the comment; use \"description\" to explain a connector";
        } else if (c == '\'') {
            e.message = "strings must be in double quotes, not single quotes";
        } else if (context == "object key") {
            e.message = "a key must be a string in double quotes";
        } else {
            e.message = "a bare word is not a JSON value";
            e.hint = "put text in double quotes; the only bare words are true, false and null";
        }
    } else if (detail.starts_with("invalid string: ") || detail.starts_with("invalid number")) {
        // The lexer's descriptions ("missing closing quote", "control character U+000A (LF) must
        // be escaped to \u000A or \n") hold no text from the file.
        if (detail.starts_with("invalid number")) e.offset = token;
        e.message = detail.substr(0, detail.find("; last read"));
    } else if (detail.starts_with("unexpected ")) {
        e.offset = token;
        e.message = detail.substr(0, detail.find(';'));
        if (!expected.empty()) e.message += "; expected " + expected;
    } else {
        e.message = "invalid JSON";
    }
    e.message = "invalid JSON: " + e.message;
    return e;
}

}  // namespace

ParsedFile parse_json_text(std::string text, const std::string& shown, Diagnostics& out) {
    ParsedFile r;
    Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded()) {
        r.doc = std::move(doc);
        r.locator = std::make_shared<JsonLocator>(std::move(text));
        return r;
    }
    ErrorCatcher catcher;
    Json::sax_parse(text, &catcher);
    auto e = explain(text, catcher.position, catcher.what);
    r.locator = std::make_shared<JsonLocator>(std::move(text));
    Diagnostic d;
    d.file = shown;
    std::tie(d.line, d.column) = r.locator->position(e.offset);
    d.message = e.message;
    d.hint = e.hint;
    out.push_back(std::move(d));
    return r;
}

ParsedFile read_json_file(const std::filesystem::path& path, const std::string& shown,
                          Diagnostics& out) {
    auto fail = [&](std::string message) {
        Diagnostic d;
        d.file = shown;
        d.message = std::move(message);
        out.push_back(std::move(d));
        return ParsedFile{};
    };
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return fail("cannot read the file: " + ec.message());
    if (size > kMaxManifestBytes) {
        return fail("the file is too large for a manifest (" + std::to_string(size) +
                    " bytes, at most " + std::to_string(kMaxManifestBytes) + ")");
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    if (!in || !(ss << in.rdbuf())) {
        // An empty file makes `ss << rdbuf` fail too; that is a parse problem, not an I/O one.
        if (in && size == 0) return parse_json_text("", shown, out);
        return fail(std::string("cannot read the file: ") + std::strerror(errno));
    }
    return parse_json_text(ss.str(), shown, out);
}

}  // namespace cdphub::manifest::detail
