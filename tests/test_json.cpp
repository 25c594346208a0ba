#include <gtest/gtest.h>

#include <cmath>

#include "digitnet/json.h"

using digitnet::Json;

TEST(JsonTest, DumpsNestedValuesCompactly) {
  const auto j = Json::object()
                     .set("a", 1)
                     .set("b", Json::array_of(std::vector<double>{0.5, 2}))
                     .set("c", "x\"y")
                     .set("d", Json())
                     .set("e", true);
  EXPECT_EQ(j.dump(), R"({"a": 1, "b": [0.5, 2], "c": "x\"y", "d": null, "e": true})");
}

TEST(JsonTest, SettingAKeyTwiceReplacesIt) {
  auto j = Json::object().set("k", 1);
  j.set("k", 2);
  EXPECT_EQ(j.dump(), R"({"k": 2})");
}

TEST(JsonTest, NonFiniteNumbersBecomeNull) {
  EXPECT_EQ(Json(std::nan("")).dump(), "null");
  EXPECT_EQ(Json(INFINITY).dump(), "null");
}

TEST(JsonTest, EscapesControlCharacters) {
  EXPECT_EQ(digitnet::json_escape(std::string("a\nb\x01", 4)), "a\\nb\\u0001");
}

TEST(JsonTest, PrettyPrintsWithIndent) {
  EXPECT_EQ(Json::object().set("a", 1).dump(2), "{\n  \"a\": 1\n}");
}
