// Test helpers: a temporary environment repository with stacks written from strings.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "compose/loader.hpp"
#include "support/temp_dir.hpp"

namespace podcd::test {

struct Repo {
  TempDir tmp;
  compose::LoadOptions options;

  Repo() {
    std::filesystem::create_directories(tmp.path() / "repo/services");
    options.repo_root = tmp.path() / "repo";
    options.secrets_dir = tmp.path() / "repo/secrets";
    options.host_env = compose::MapLookup({{"TZ", "Europe/Paris"}});
  }
  std::filesystem::path Root() const { return tmp.path() / "repo"; }
  std::filesystem::path Write(const std::string& rel, const std::string& text) const {
    return tmp.Write("repo/" + rel, text);
  }
  compose::StackDir Dir(const std::string& stack, const std::string& file = "compose.yml") const {
    auto dir = Root() / "services" / stack;
    return compose::StackDir{stack, dir, dir / file};
  }
  std::expected<core::Stack, compose::LoadErrors> Load(const std::string& stack,
                                                       const std::string& yaml) const {
    Write("services/" + stack + "/compose.yml", yaml);
    return compose::LoadStack(Dir(stack), options);
  }
  // Loads and fails the test with every error when it does not load.
  core::Stack Ok(const std::string& stack, const std::string& yaml) const;
  // Expects failure; returns all messages joined with their contexts.
  std::string Errors(const std::string& stack, const std::string& yaml) const;
};

inline std::string Join(const compose::LoadErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += e.What() + "\n";
  return out;
}

inline core::Stack Repo::Ok(const std::string& stack, const std::string& yaml) const {
  auto r = Load(stack, yaml);
  if (!r) FAIL(Join(r.error()));
  return std::move(*r);
}

inline std::string Repo::Errors(const std::string& stack, const std::string& yaml) const {
  auto r = Load(stack, yaml);
  if (r) FAIL("expected an error for:\n" + yaml);
  return Join(r.error());
}

}  // namespace podcd::test
