#include "models/config_fields.h"

namespace da::models::config {

std::string Writer::str(const char* class_name) const {
  JsonWriter w;
  if (class_name) w.field("_class_name", class_name);
  for (const auto& [k, v] : values_) w.raw_field(k, v);
  return w.str();
}

std::string Schema::str(const char* name, Unknown unknown) const {
  std::string s = "{\"name\": " + json::quote(name) + ", \"unknown\": " + (unknown == Unknown::kReject ? "\"reject\"" : "\"ignore\"") + ", \"fields\": [";
  for (size_t i = 0; i < fields_.size(); ++i) {
    const auto& f = fields_[i];
    s += std::string(i ? ", " : "") + "{\"key\": " + json::quote(f.key) + ", \"type\": " + json::quote(f.type) + ", \"default\": " + f.default_json +
         ", \"doc\": " + json::quote(f.doc) + "}";
  }
  return s + "]}";
}

}  // namespace da::models::config
