#include "state/uploads.hpp"

#include <algorithm>

#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace {

constexpr int kVersion = 1;

Error Damaged(const std::string& why) {
  return {ErrorCode::kInvalidArgument, "the uploads record is damaged: " + why, {}};
}

}  // namespace

std::filesystem::path UploadsPath(const std::filesystem::path& state_dir) {
  return state_dir / "uploads.json";
}

std::filesystem::path UploadsDir(const std::filesystem::path& state_dir) { return state_dir / "uploads"; }

std::string UploadsJson(const Uploads& uploads) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Int(w, "version", kVersion);
  w.Key("stacks");
  w.StartObject();
  for (const auto& [stack, images] : uploads) {
    w.Key(stack.data(), static_cast<rapidjson::SizeType>(stack.size()));
    w.StartArray();
    for (const auto& u : images) {
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
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Expected<Uploads> UploadsFromJson(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::unexpected(Damaged("not a JSON object"));
  auto stacks = doc.FindMember("stacks");
  if (stacks == doc.MemberEnd() || !stacks->value.IsObject())
    return std::unexpected(Damaged("no \"stacks\" object"));
  Uploads out;
  for (const auto& s : stacks->value.GetObject()) {
    if (!s.value.IsArray())
      return std::unexpected(Damaged("stack " + std::string(s.name.GetString()) + " is not a list"));
    auto& list = out[s.name.GetString()];
    for (const auto& e : s.value.GetArray()) {
      if (!e.IsObject()) return std::unexpected(Damaged("an entry is not an object"));
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
      if (u.image.empty())
        return std::unexpected(
            Damaged("an entry of stack " + std::string(s.name.GetString()) + " has no image"));
      list.push_back(std::move(u));
    }
  }
  return out;
}

Expected<Uploads> ReadUploads(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Uploads{};
  auto text = ReadFile(file);
  if (!text) return std::unexpected(text.error());
  auto u = UploadsFromJson(*text);
  if (!u) return std::unexpected(u.error().WithContext(file.string()));
  return u;
}

Expected<void> RecordUpload(const std::filesystem::path& file, const std::string& stack,
                            UploadedImage entry) {
  auto uploads = ReadUploads(file);
  if (!uploads) return std::unexpected(uploads.error());
  auto& list = (*uploads)[stack];
  std::erase_if(list, [&](const UploadedImage& u) { return u.image == entry.image; });
  list.push_back(std::move(entry));
  return WriteFileAtomic(file, UploadsJson(*uploads));
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
