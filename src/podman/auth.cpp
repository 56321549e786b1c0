#include "podman/auth.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <vector>

#include "util/base64.hpp"

namespace podcd::podman {
namespace {

bool IsDomain(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost";
}

std::string_view StripScheme(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) key.remove_prefix(scheme.size());
  }
  while (key.ends_with('/')) key.remove_suffix(1);
  return key;
}

// Docker's config.json names Docker Hub "https://index.docker.io/v1/".
std::string NormalizeKey(std::string_view key) {
  key = StripScheme(key);
  for (std::string_view hub : {"index.docker.io", "registry-1.docker.io"}) {
    if (key == hub || key.starts_with(std::string(hub) + "/")) {
      return "docker.io";
    }
  }
  return std::string(key);
}

}  // namespace

std::string ImageRepository(std::string_view reference) {
  std::string_view ref = reference;
  if (auto at = ref.find('@'); at != std::string_view::npos) ref = ref.substr(0, at);
  const auto last_slash = ref.rfind('/');
  const auto colon = ref.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref = ref.substr(0, colon);
  }
  const auto first_slash = ref.find('/');
  if (first_slash != std::string_view::npos && IsDomain(ref.substr(0, first_slash))) {
    return std::string(ref);
  }
  if (first_slash == std::string_view::npos) return "docker.io/library/" + std::string(ref);
  return "docker.io/" + std::string(ref);
}

Expected<std::vector<AuthEntry>> ReadAuthEntries(std::string_view auth_json) {
  rapidjson::Document doc;
  doc.Parse(auth_json.data(), auth_json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Fail(ErrorCode::kInvalidArgument, "not a JSON object (expected {\"auths\":{...}})");
  }
  std::vector<AuthEntry> out;
  auto auths = doc.FindMember("auths");
  if (auths == doc.MemberEnd()) return out;
  if (!auths->value.IsObject()) return Fail(ErrorCode::kInvalidArgument, "\"auths\" is not an object");
  for (auto it = auths->value.MemberBegin(); it != auths->value.MemberEnd(); ++it) {
    AuthEntry e;
    e.key = NormalizeKey(std::string_view(it->name.GetString(), it->name.GetStringLength()));
    if (!it->value.IsObject()) {
      e.error = "entry \"" + e.key + "\" is not an object";
      out.push_back(std::move(e));
      continue;
    }
    if (auto tok = it->value.FindMember("identitytoken");
        tok != it->value.MemberEnd() && tok->value.IsString()) {
      e.credentials.identity_token = tok->value.GetString();
    }
    auto auth = it->value.FindMember("auth");
    if (auth != it->value.MemberEnd() && auth->value.IsString() && auth->value.GetStringLength() > 0) {
      auto decoded = Base64Decode(std::string_view(auth->value.GetString(), auth->value.GetStringLength()));
      const auto colon = decoded ? decoded->find(':') : std::string::npos;
      if (!decoded || colon == std::string::npos) {
        e.error = "entry \"" + e.key + "\": \"auth\" is not base64 of user:password";
      } else {
        e.credentials.username = decoded->substr(0, colon);
        e.credentials.password = decoded->substr(colon + 1);
      }
    } else if (e.credentials.identity_token.empty()) {
      continue;  // an entry without credentials (e.g. only a credential helper) does not count
    }
    out.push_back(std::move(e));
  }
  return out;
}

Expected<std::optional<RegistryCredentials>> FindCredentials(std::string_view auth_json,
                                                             std::string_view reference) {
  auto entries = ReadAuthEntries(auth_json);
  if (!entries) return std::unexpected(entries.error());
  // Candidate keys from the most specific to the host alone.
  std::string repo = ImageRepository(reference);
  std::vector<std::string> candidates;
  for (std::string key = repo;;) {
    candidates.push_back(key);
    auto slash = key.rfind('/');
    if (slash == std::string::npos) break;
    key.resize(slash);
  }
  for (const auto& want : candidates) {
    for (const auto& e : *entries) {
      if (e.key != want) continue;
      if (!e.error.empty()) return Fail(ErrorCode::kInvalidArgument, e.error);
      return std::optional<RegistryCredentials>(e.credentials);
    }
  }
  return std::optional<RegistryCredentials>{};
}

std::optional<std::string> RegistryConfigHeader(const std::vector<AuthEntry>& entries) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  bool any = false;
  for (const auto& e : entries) {
    if (!e.error.empty()) continue;
    any = true;
    w.Key(e.key.c_str(), static_cast<rapidjson::SizeType>(e.key.size()));
    w.StartObject();
    w.Key("username");
    w.String(e.credentials.username);
    w.Key("password");
    w.String(e.credentials.password);
    if (!e.credentials.identity_token.empty()) {
      w.Key("identitytoken");
      w.String(e.credentials.identity_token);
    }
    w.EndObject();
  }
  w.EndObject();
  if (!any) return std::nullopt;
  return Base64Encode(std::string_view(buffer.GetString(), buffer.GetSize()), true);
}

std::string RegistryAuthHeader(const RegistryCredentials& credentials) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("username");
  w.String(credentials.username);
  w.Key("password");
  w.String(credentials.password);
  if (!credentials.identity_token.empty()) {
    w.Key("identitytoken");
    w.String(credentials.identity_token);
  }
  w.EndObject();
  return Base64Encode(std::string_view(buffer.GetString(), buffer.GetSize()), true);
}

}  // namespace podcd::podman
