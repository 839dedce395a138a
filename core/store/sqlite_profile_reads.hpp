// Read queries over the profile tables (SQLite). The store calls them under its lock.
#pragma once

#include <SQLiteCpp/Database.h>

#include <optional>
#include <string_view>

#include "store/profile_details.hpp"

namespace cdphub::store {

std::optional<ProfileId> read_find_profile(SQLite::Database& db, std::string_view type,
                                           std::string_view value);
std::optional<ProfileDetails> read_profile_details(SQLite::Database& db, ProfileId id);
ProfileCounts read_profile_counts(SQLite::Database& db);

}  // namespace cdphub::store
