// podman::Client's internals, shared by the files that define its calls (one per topic:
// client.cpp the transport, images, containers, networks, volumes, logs and events). Not for
// use outside podman/.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "podman/client.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace podcd::podman {

using Json = rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;
using json::GetBool;
using json::GetInt;

// "/images/x/json" -> "/v4.0.0/libpod/images/x/json".
std::string Path(std::string_view rest);
// A path segment from a user-supplied name or id.
std::string Seg(std::string_view s);

Expected<rapidjson::Document> ParseJson(std::string_view body, std::string_view call);

const Json* GetObject(const Json& obj, const char* key);
std::map<std::string, std::string> GetStringMap(const Json& obj, const char* key);
std::vector<std::string> GetStringArray(const Json& obj, const char* key);

void WriteMap(Writer& w, const char* key, const std::map<std::string, std::string>& m);

// filters={"label":["a=b",...],"type":[...]}, URL-encoded.
std::string LabelFilterQuery(const std::vector<std::string>& label_filters, std::string_view type = {});

// The error code for an answer's status and text (Podman's status codes are not always the
// ones its message implies).
ErrorCode CodeFor(long status, std::string_view text);

// Calls `each` for every JSON object of an NDJSON answer (a pull's or the events' stream), in
// order, until it fails; a line that is not an object is an error naming the `stream`.
Expected<void> ForEachJsonLine(std::string_view body, std::string_view stream, std::string_view call,
                               const std::function<Expected<void>(const rapidjson::Document&)>& each);

// The answer to a removal: 200 or 204, and 200 carries [{"Id" or "Name":...,"Err":...}], where
// an item's error is still a failure.
Expected<void> RemovalReport(const curl::HttpResponse& r, const std::string& call);

}  // namespace podcd::podman
