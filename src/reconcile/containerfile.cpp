#include "reconcile/containerfile.hpp"

#include <algorithm>
#include <cctype>

#include "compose/interpolate.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The heredocs an instruction opens (`<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`), in order:
// their terminators, and whether leading tabs are stripped before the comparison (`<<-`).
struct Heredoc {
  std::string word;
  bool strip_tabs = false;
};
std::vector<Heredoc> HeredocsOpened(std::string_view instruction) {
  std::vector<Heredoc> out;
  auto word_char = [](char c, bool first) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' ||
           (!first && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-'));
  };
  char in_quote = 0;  // `<<` inside a quoted string opens nothing
  for (std::size_t at = 0; at < instruction.size(); ++at) {
    const char c = instruction[at];
    if (in_quote) {
      if (c == '\\' && in_quote == '"')
        ++at;
      else if (c == in_quote)
        in_quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      in_quote = c;
      continue;
    }
    if (!instruction.substr(at).starts_with("<<")) continue;
    std::size_t i = at + 2;
    Heredoc h;
    if (i < instruction.size() && instruction[i] == '-') {
      h.strip_tabs = true;
      ++i;
    }
    const char quote =
        i < instruction.size() && (instruction[i] == '"' || instruction[i] == '\'') ? instruction[i] : '\0';
    if (quote) ++i;
    std::size_t j = i;
    while (j < instruction.size() && word_char(instruction[j], j == i)) ++j;
    if (j == i || (quote && (j >= instruction.size() || instruction[j] != quote))) continue;
    h.word = std::string(instruction.substr(i, j - i));
    out.push_back(std::move(h));
    at = quote ? j : j - 1;
  }
  return out;
}

// Logical lines: comments dropped, `\` continuations joined, heredoc bodies skipped (RUN,
// COPY and ADD open them, as BuildKit and buildah read them).
std::vector<std::string> Instructions(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  std::vector<Heredoc> open;  // heredocs whose bodies come next, in order
  for (std::string_view line : SplitLines(text)) {
    if (!open.empty()) {
      std::string_view t = line;
      if (t.ends_with('\r')) t.remove_suffix(1);
      if (open.front().strip_tabs)
        while (t.starts_with('\t')) t.remove_prefix(1);
      if (t == open.front().word) open.erase(open.begin());
      continue;
    }
    std::string_view t = Trim(line);
    if (t.starts_with('#')) continue;  // a comment, also inside a continued instruction
    if (t.ends_with('\\')) {
      current += std::string(t.substr(0, t.size() - 1)) + " ";
      continue;
    }
    current += std::string(t);
    if (std::string_view done = Trim(current); !done.empty()) {
      out.emplace_back(done);
      const std::string op = Lower(done.substr(0, done.find_first_of(" \t")));
      if (op == "run" || op == "copy" || op == "add") open = HeredocsOpened(done);
    }
    current.clear();
  }
  if (!Trim(current).empty()) out.emplace_back(Trim(current));
  return out;
}

std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// $NAME, ${NAME} and ${NAME:-default}, as compose interpolates them; what cannot be expanded
// (${NAME:?error} without a value) names no image.
std::string Expand(std::string_view s, const std::map<std::string, std::string>& vars) {
  auto r = compose::Interpolate(s, compose::MapLookup(vars));
  return r ? r->value : std::string();
}

}  // namespace

std::vector<std::string> BaseImages(std::string_view containerfile,
                                    const std::map<std::string, std::string>& build_args) {
  std::map<std::string, std::string> args;  // ARGs before the first FROM
  std::vector<std::string> stages;          // stage names, lower case
  std::vector<std::string> out;
  auto add = [&](std::string image) {
    if (image.empty() || Lower(image) == "scratch") return;
    if (std::find(stages.begin(), stages.end(), Lower(image)) != stages.end()) return;
    if (std::find(out.begin(), out.end(), image) == out.end()) out.push_back(std::move(image));
  };
  bool seen_from = false;
  for (const auto& line : Instructions(containerfile)) {
    auto words = Words(line);
    if (words.empty()) continue;
    const std::string op = Lower(words[0]);
    if (op == "arg" && !seen_from) {
      for (std::size_t i = 1; i < words.size(); ++i) {
        const auto eq = words[i].find('=');
        std::string name = words[i].substr(0, eq);
        std::string value = eq == std::string::npos ? "" : words[i].substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
          value = value.substr(1, value.size() - 2);
        if (auto b = build_args.find(name); b != build_args.end()) value = b->second;
        args[name] = value;
      }
    } else if (op == "from") {
      seen_from = true;
      std::size_t i = 1;
      while (i < words.size() && words[i].starts_with("--")) ++i;  // --platform=...
      if (i >= words.size()) continue;
      std::string image = Expand(words[i], args);
      if (i + 2 < words.size() && Lower(words[i + 1]) == "as") {
        add(image);
        stages.push_back(Lower(words[i + 2]));
      } else {
        add(image);
      }
    } else if (op == "copy" || op == "add") {
      for (std::size_t i = 1; i < words.size() && words[i].starts_with("--"); ++i) {
        if (!Lower(words[i]).starts_with("--from=")) continue;
        std::string from = Expand(words[i].substr(7), args);
        const bool index = !from.empty() && std::all_of(from.begin(), from.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        });
        if (!index) add(from);
      }
    }
  }
  return out;
}

}  // namespace podcd::reconcile
