// A tokenizer and recursive-descent parser for protobuf text format, the part of it GE graph text
// uses: `key: scalar`, `key { … }` / `key: { … }` / `key < … >`, `key: [a, b]`, quoted strings
// with C escapes, `#` comments. No schema: values stay text. Nesting and line length are bounded
// so hostile text fails with a reason instead of exhausting the stack or memory.
#include <cctype>

#include "aitdb/ingest/ge_graph_text.h"
#include "aitdb/schema/errors.h"

namespace aitdb::ingest {
namespace {

constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxLine = 1U << 20U;

class PbTextParser {
 public:
  PbTextParser(std::string_view text, const std::string& path) : s_(text), path_(path) { check_lines(); }

  PbTextMessage parse_top() {
    PbTextMessage m = parse_fields(0, '\0');
    skip_space();
    if (i_ != s_.size()) fail("unexpected '" + std::string(1, s_[i_]) + "'");
    return m;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(path_, "graph text line " + std::to_string(line_of(i_)) + ": " + why);
  }
  [[nodiscard]] std::size_t line_of(std::size_t pos) const {
    std::size_t line = 1;
    for (std::size_t k = 0; k < pos && k < s_.size(); ++k) line += s_[k] == '\n' ? 1 : 0;
    return line;
  }
  void check_lines() const {
    std::size_t start = 0;
    while (start < s_.size()) {
      const auto nl = s_.find('\n', start);
      const std::size_t end = nl == std::string_view::npos ? s_.size() : nl;
      if (end - start > kMaxLine) {
        throw FormatError(path_, "graph text line " + std::to_string(line_of(start)) + " is longer than 1 MiB");
      }
      start = end + 1;
    }
  }
  void skip_space() {
    while (i_ < s_.size()) {
      if (s_[i_] == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (std::isspace(static_cast<unsigned char>(s_[i_])) != 0) {
        ++i_;
      } else {
        return;
      }
    }
  }
  bool accept(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  static bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-' || c == '+';
  }
  std::string_view word() {
    skip_space();
    const std::size_t start = i_;
    while (i_ < s_.size() && ident_char(s_[i_])) ++i_;
    if (i_ == start)
      fail(i_ < s_.size() ? "expected a name or value, found '" + std::string(1, s_[i_]) + "'" : "ends early");
    return s_.substr(start, i_ - start);
  }

  // Fields until `close` ('}' or '>'), or to the end of the text at the top level.
  PbTextMessage parse_fields(int depth, char close) {
    if (depth > kMaxDepth) fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    PbTextMessage m;
    while (true) {
      skip_space();
      if (i_ == s_.size()) {
        if (close != '\0') fail("ends before a closing '" + std::string(1, close) + "'");
        return m;
      }
      if (s_[i_] == close) {
        ++i_;
        return m;
      }
      if (s_[i_] == '}' || s_[i_] == '>') fail("unexpected '" + std::string(1, s_[i_]) + "'");
      const std::string key(word());
      if (!std::isalpha(static_cast<unsigned char>(key[0])) && key[0] != '_') fail("'" + key + "' is not a field name");
      const bool colon = accept(':');
      if (colon && accept('[')) {
        parse_list(m, key, depth);
      } else {
        m.fields.push_back(parse_value(key, depth, colon));
      }
      if (!accept(',')) accept(';');
    }
  }

  void parse_list(PbTextMessage& m, const std::string& key, int depth) {
    if (accept(']')) return;
    do {
      m.fields.push_back(parse_value(key, depth, true));
    } while (accept(','));
    if (!accept(']')) fail("list of '" + key + "' lacks its closing ']'");
  }

  PbTextField parse_value(const std::string& key, int depth, bool colon) {
    PbTextField f;
    f.key = key;
    skip_space();
    if (accept('{')) {
      f.is_message = true;
      f.message = parse_fields(depth + 1, '}');
    } else if (accept('<')) {
      f.is_message = true;
      f.message = parse_fields(depth + 1, '>');
    } else if (!colon) {
      fail("'" + key + "' is followed by neither ':' nor '{'");
    } else if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\'')) {
      // Adjacent string literals concatenate, as in C.
      do {
        f.value += string_literal();
        skip_space();
      } while (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\''));
    } else {
      f.value = std::string(word());
    }
    return f;
  }

  std::string string_literal() {
    const char quote = s_[i_++];
    std::string out;
    while (true) {
      if (i_ >= s_.size() || s_[i_] == '\n') fail("unterminated string");
      const char c = s_[i_++];
      if (c == quote) return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated string");
      out += escape(s_[i_++]);
    }
  }

  char escape(char e) {
    switch (e) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\a';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '\\':
        return '\\';
      case '\'':
        return '\'';
      case '"':
        return '"';
      case '?':
        return '?';
      case 'x':
        return static_cast<char>(number(16, 2, "hex"));
      default:
        break;
    }
    if (e >= '0' && e <= '7') {
      --i_;
      return static_cast<char>(number(8, 3, "octal"));
    }
    fail(std::string("unknown escape '\\") + e + "'");
  }

  // Up to max_digits digits in `base` (at least one); the value must fit a byte.
  unsigned number(unsigned base, int max_digits, const char* what) {
    unsigned v = 0;
    int n = 0;
    while (n < max_digits && i_ < s_.size()) {
      const char c = s_[i_];
      const int d = std::isdigit(static_cast<unsigned char>(c)) != 0 ? c - '0'
                    : (base == 16 && std::isxdigit(static_cast<unsigned char>(c)) != 0)
                        ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                        : -1;
      if (d < 0 || static_cast<unsigned>(d) >= base) break;
      v = v * base + static_cast<unsigned>(d);
      ++n;
      ++i_;
    }
    if (n == 0 || v > 0xFF) fail(std::string("bad ") + what + " escape");
    return v;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

}  // namespace

const PbTextField* PbTextMessage::find(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::vector<const PbTextField*> PbTextMessage::all(std::string_view key) const {
  std::vector<const PbTextField*> out;
  for (const auto& f : fields) {
    if (f.key == key) out.push_back(&f);
  }
  return out;
}

std::optional<std::string> PbTextMessage::scalar(std::string_view key) const {
  for (const auto& f : fields) {
    if (f.key == key && !f.is_message) return f.value;
  }
  return std::nullopt;
}

std::string PbTextMessage::msit_key(std::size_t i) const {
  std::size_t seen = 0;
  for (std::size_t k = 0; k < i && k < fields.size(); ++k) seen += fields[k].key == fields[i].key ? 1 : 0;
  return seen == 0 ? fields[i].key : fields[i].key + "#" + std::to_string(seen);
}

PbTextMessage parse_pb_text(std::string_view text, const std::string& display_path) {
  return PbTextParser(text, display_path).parse_top();
}

}  // namespace aitdb::ingest
