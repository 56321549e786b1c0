#include "state/uploads.hpp"

#include <algorithm>

#include "state/stacks_file_internal.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace {

void WriteUpload(json::Writer& w, const UploadedImage& u) {
  w.StartObject();
  json::Str(w, "image", u.image);
  json::Str(w, "id", u.id);
  w.Key("added");
  w.StartArray();
  for (const auto& id : u.added) json::Text(w, id);
  w.EndArray();
  json::Str(w, "deployment", u.deployment);
  json::Str(w, "actor", u.actor);
  json::Int(w, "at_ms", u.at_ms);
  w.EndObject();
}

Expected<UploadedImage> ReadUpload(const rapidjson::Value& e, const std::string& at) {
  if (!e.IsObject()) return Fail(ErrorCode::kInvalidArgument, "an entry is not an object", at);
  UploadedImage u;
  u.image = json::GetStr(e, "image");
  u.id = json::GetStr(e, "id");
  u.deployment = json::GetStr(e, "deployment");
  u.actor = json::GetStr(e, "actor");
  u.at_ms = json::GetInt(e, "at_ms");
  if (auto added = e.FindMember("added"); added != e.MemberEnd() && added->value.IsArray()) {
    for (const auto& id : added->value.GetArray()) {
      if (id.IsString()) u.added.emplace_back(id.GetString(), id.GetStringLength());
    }
  }
  if (u.image.empty()) return Fail(ErrorCode::kInvalidArgument, "an entry has no image", at);
  return u;
}

}  // namespace

std::filesystem::path UploadsPath(const std::filesystem::path& state_dir) {
  return state_dir / "uploads.json";
}

std::filesystem::path UploadsDir(const std::filesystem::path& state_dir) { return state_dir / "uploads"; }

std::string EncodeUploads(const Uploads& uploads) {
  return EncodeStacksFile([&](json::Writer& w) {
    for (const auto& [stack, images] : uploads) {
      w.Key(stack.data(), static_cast<rapidjson::SizeType>(stack.size()));
      w.StartArray();
      for (const auto& u : images) WriteUpload(w, u);
      w.EndArray();
    }
  });
}

Expected<Uploads> DecodeUploads(std::string_view text, const std::string& where) {
  Uploads out;
  auto read = DecodeStacksFile(
      text, where,
      [&](const std::string& stack, const rapidjson::Value& v, const std::string& at) -> Expected<void> {
        if (!v.IsArray()) return Fail(ErrorCode::kInvalidArgument, "not a list of uploads", at);
        auto& list = out[stack];
        for (const auto& e : v.GetArray()) {
          auto u = ReadUpload(e, at);
          if (!u) return std::unexpected(u.error());
          list.push_back(std::move(*u));
        }
        return {};
      });
  if (!read) return std::unexpected(read.error());
  return out;
}

Expected<Uploads> ReadUploads(const std::filesystem::path& file) {
  auto text = ReadStacksFile(file, 16u << 20);
  if (!text) return std::unexpected(text.error());
  if (!*text) return Uploads{};
  return DecodeUploads(**text, file.string());
}

Expected<void> RecordUpload(const std::filesystem::path& file, const std::string& stack,
                            UploadedImage entry) {
  if (!IsValidStackName(stack)) return Fail(ErrorCode::kInvalidArgument, "not a valid stack name", stack);
  // Loads finish side by side (the daemon's uploads, up to four at once): one at a time here.
  auto lock = LockStacksFile(file);
  if (!lock) return std::unexpected(lock.error());
  auto uploads = ReadUploads(file);
  if (!uploads) return std::unexpected(uploads.error());
  auto& list = (*uploads)[stack];
  std::erase_if(list, [&](const UploadedImage& u) { return u.image == entry.image; });
  list.push_back(std::move(entry));
  return WriteFileAtomic(file, EncodeUploads(*uploads));
}

std::set<std::string> UploadedImages(const Uploads& uploads, const std::string& stack) {
  std::set<std::string> out;
  if (auto it = uploads.find(stack); it != uploads.end()) {
    for (const auto& u : it->second) out.insert(u.image);
  }
  return out;
}

std::vector<std::string> AddedImageIds(const Uploads& uploads, const std::string& stack) {
  std::vector<std::string> out;
  if (auto it = uploads.find(stack); it != uploads.end()) {
    for (const auto& u : it->second) {
      for (const auto& id : u.added) {
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
      }
    }
  }
  return out;
}

}  // namespace podcd::state
