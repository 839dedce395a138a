#include "simulators/vendors/salesforce_soql.hpp"

#include <cctype>

namespace cdphub::sim::salesforce {
namespace {

struct Token {
    std::string text;
    bool quoted = false;
};

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == ',') {
            out.push_back({",", false});
            ++i;
        } else if (c == '\'') {
            std::size_t j = i + 1;
            std::string v;
            while (j < s.size() && s[j] != '\'') {
                if (s[j] == '\\' && j + 1 < s.size()) ++j;
                v += s[j++];
            }
            out.push_back({v, true});
            i = j + 1;
        } else if (c == '<' || c == '>' || c == '=' || c == '!') {
            std::string op(1, c);
            if (i + 1 < s.size() && s[i + 1] == '=') op += '=';
            out.push_back({op, false});
            i += op.size();
        } else {
            std::size_t j = i;
            while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != ',' &&
                   s[j] != '<' && s[j] != '>' && s[j] != '=' && s[j] != '!' && s[j] != '\'')
                ++j;
            out.push_back({std::string(s.substr(i, j - i)), false});
            i = j;
        }
    }
    return out;
}

bool is_kw(const Token& t, std::string_view kw) {
    if (t.quoted || t.text.size() != kw.size()) return false;
    for (std::size_t i = 0; i < kw.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(t.text[i])) != kw[i]) return false;
    return true;
}

bool is_name(const Token& t) {
    if (t.quoted || t.text.empty() || !std::isalpha(static_cast<unsigned char>(t.text[0])))
        return false;
    for (char c : t.text)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
    return true;
}

SoqlError malformed(const std::string& near) {
    return {"MALFORMED_QUERY", "unexpected token: '" + near + "'"};
}

}  // namespace

std::variant<SoqlQuery, SoqlError> parse_soql(std::string_view text) {
    const auto t = tokenize(text);
    std::size_t i = 0;
    auto at_end = [&] { return i >= t.size(); };
    auto near = [&] { return at_end() ? std::string("<EOF>") : t[i].text; };
    SoqlQuery q;
    if (at_end() || !is_kw(t[i], "SELECT")) return malformed(near());
    ++i;
    for (;;) {
        if (at_end() || !is_name(t[i]) || is_kw(t[i], "FROM")) return malformed(near());
        q.fields.push_back(t[i++].text);
        if (!at_end() && t[i].text == "," && !t[i].quoted) {
            ++i;
            continue;
        }
        break;
    }
    if (at_end() || !is_kw(t[i], "FROM")) return malformed(near());
    ++i;
    if (at_end() || !is_name(t[i])) return malformed(near());
    q.object = t[i++].text;
    if (!at_end() && is_kw(t[i], "WHERE")) {
        ++i;
        if (at_end() || !is_name(t[i])) return malformed(near());
        SoqlFilter f;
        f.field = t[i++].text;
        if (at_end()) return malformed(near());
        f.op = t[i++].text;
        if (f.op != ">" && f.op != ">=" && f.op != "<" && f.op != "<=" && f.op != "=")
            return malformed(f.op);
        if (at_end()) return malformed(near());
        f.literal = t[i].text;
        f.quoted = t[i].quoted;
        ++i;
        q.where = f;
    }
    if (!at_end() && is_kw(t[i], "ORDER")) {
        ++i;
        if (at_end() || !is_kw(t[i], "BY")) return malformed(near());
        ++i;
        for (;;) {
            if (at_end() || !is_name(t[i])) return malformed(near());
            q.order_by.push_back(t[i++].text);
            if (!at_end() && is_kw(t[i], "DESC"))
                return SoqlError{"MALFORMED_QUERY", "the simulator only orders ascending"};
            if (!at_end() && is_kw(t[i], "ASC")) ++i;
            if (!at_end() && t[i].text == "," && !t[i].quoted) {
                ++i;
                continue;
            }
            break;
        }
    }
    if (!at_end() && is_kw(t[i], "LIMIT")) {
        ++i;
        if (at_end()) return malformed(near());
        try {
            q.limit = static_cast<std::size_t>(std::stoul(t[i++].text));
        } catch (...) {
            return malformed(t[i - 1].text);
        }
    }
    if (!at_end()) return malformed(near());
    return q;
}

}  // namespace cdphub::sim::salesforce
