#include "cli/annotations.hpp"

#include <cctype>
#include <system_error>

#include "util/json_text.hpp"
#include "util/sha256.hpp"

namespace podcd::cli {
namespace {

namespace fs = std::filesystem;

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// Takes a trailing ":<digits>" off `loc` into `n`.
bool TakeNumber(std::string_view& loc, int& n) {
  auto c = loc.rfind(':');
  if (c == std::string_view::npos || !AllDigits(loc.substr(c + 1))) return false;
  n = std::stoi(std::string(loc.substr(c + 1)));
  loc = loc.substr(0, c);
  return true;
}

// GitHub's workflow command escaping: the message, and (more) a property's value.
std::string EscapeData(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeProperty(std::string_view s) {
  std::string out;
  for (char c : EscapeData(s)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Problem ParseProblem(std::string_view stack, std::string_view text, const fs::path& repo_root,
                     std::string_view stack_dir, bool refused) {
  Problem p;
  p.stack = stack;
  p.refused = refused;
  p.file = stack_dir;
  p.message = text;
  auto sep = text.find(": ");
  if (sep == std::string_view::npos) return p;
  std::string_view loc = text.substr(0, sep);
  if (loc.find(' ') != std::string_view::npos) return p;
  int line = 0;
  int column = 0;
  if (int last = 0; TakeNumber(loc, last)) {
    if (int before = 0; TakeNumber(loc, before)) {
      line = before;  // "file:line:col"
      column = last;
    } else {
      line = last;  // "file:line" (an env file's line)
    }
  }
  fs::path file(loc);
  std::error_code ec;
  const fs::path root = repo_root.lexically_normal();
  if (file.is_absolute()) {
    fs::path rel = file.lexically_normal().lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") return p;
    file = rel;
  }
  if (file.empty() || !fs::exists(root / file, ec)) return p;
  p.file = file.generic_string();
  p.line = line;
  p.column = column;
  p.message = text.substr(sep + 2);
  return p;
}

std::string GithubAnnotation(const Problem& p) {
  std::string out = "::error file=" + EscapeProperty(p.file);
  if (p.line > 0) out += ",line=" + std::to_string(p.line);
  if (p.column > 0) out += ",col=" + std::to_string(p.column);
  out += ",title=" + EscapeProperty("podcd: stack " + p.stack + (p.refused ? " refused" : " invalid"));
  out += "::" + EscapeData(p.message);
  return out;
}

std::string GitlabReport(const std::vector<Problem>& problems) {
  std::string out = "[";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    const Problem& p = problems[i];
    const std::string description =
        "stack " + p.stack + (p.refused ? " refused: " : " invalid: ") + p.message;
    out += i == 0 ? "\n  {" : ",\n  {";
    out += "\"description\": ";
    json::AppendQuoted(out, description);
    out += ", \"check_name\": ";
    json::AppendQuoted(out, p.refused ? "podcd-policy" : "podcd-compose");
    // Stable across runs for the same problem in the same place (GitLab compares reports).
    out += ", \"fingerprint\": ";
    json::AppendQuoted(out,
                       Sha256Hex(p.file + '\0' + std::to_string(p.line) + '\0' + description).substr(0, 32));
    out += ", \"severity\": \"major\", \"location\": {\"path\": ";
    json::AppendQuoted(out, p.file);
    out += ", \"lines\": {\"begin\": " + std::to_string(p.line > 0 ? p.line : 1) + "}}}";
  }
  out += problems.empty() ? "]\n" : "\n]\n";
  return out;
}

}  // namespace podcd::cli
