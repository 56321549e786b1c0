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

// Logical lines: comments dropped, `\` continuations joined.
std::vector<std::string> Instructions(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  for (std::string_view line : SplitLines(text)) {
    std::string_view t = Trim(line);
    if (t.starts_with('#')) continue;  // a comment, also inside a continued instruction
    if (t.ends_with('\\')) {
      current += std::string(t.substr(0, t.size() - 1)) + " ";
      continue;
    }
    current += std::string(t);
    if (!Trim(current).empty()) out.emplace_back(Trim(current));
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
