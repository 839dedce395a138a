// cdphub import FILE.csv --source INSTANCE: the CSV goes through the csv-file instance's mapping,
// with the import summary, bad rows rejected with file:line, re-imports skipped, and the
// instance's own cursor left alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "run_cdphub.hpp"
#include "test_util.hpp"

namespace cdphub {
namespace {
using ::testing::HasSubstr;

class ImportCsv : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_.write("m/hub.json", R"j({"data_dir": "../var"})j");
        dir_.write("m/connectors/pos-csv.json", R"j({
          "id": "pos-csv", "plugin": "csv-file", "enabled": false,
          "config": {
            "directory": "../drop",
            "mapping": {
              "record_id": "Transaction ID",
              "identifiers": {"pos_customer_id": "Customer ID"},
              "occurred_at": {"date": "Date", "time": "Time", "date_format": "us",
                              "time_zone": "America/New_York"},
              "order": {"currency": "USD", "total": "Net Sales"}
            }
          }})j");
        dir_.write("m/connectors/other.json",
                   R"j({"id": "other", "plugin": "test-connector", "enabled": false})j");
        dir_.write("exports/May 2024 [store 1].CSV",
                   "\xEF\xBB\xBF"
                   "Date,Time,Transaction ID,Customer ID,Net Sales\r\n"
                   "05/01/2024,9:30 AM,T1,C1,\"$1,234.56\"\r\n"
                   "05/02/2024,10:00 AM,T2,C1,($5.00)\r\n"
                   "03/10/2024,2:30 AM,T3,C2,$1.00\r\n"
                   "05/03/2024,11:00 AM,T4,C3,$2.0.0\r\n");
        dir_.write("exports/other.csv",
                   "Date,Time,Transaction ID,Customer ID,Net Sales\r\n"
                   "05/01/2024,9:30 AM,X1,C9,$1.00\r\n");
    }
    std::string m() const {
        return "-m " + (dir_.path() / "m").string() + " -P " + CDPHUB_TEST_PLUGINS + "/good -P " +
               CDPHUB_PLUGIN_DIR + " ";
    }
    std::string file() const {
        return "'" + (dir_.path() / "exports/May 2024 [store 1].CSV").string() + "'";
    }
    test::TempDir dir_;
};

TEST_F(ImportCsv, ImportsThroughTheInstancesMappingAndRejectsBadRowsWithFileAndLine) {
    auto r = cdphub(m() + "import " + file() + " --source pos-csv");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("as source 'pos-csv'"));
    EXPECT_THAT(r.out, HasSubstr("records stored     2"));  // only this file, not other.csv
    EXPECT_THAT(r.out, HasSubstr("rejected           2"));
    EXPECT_THAT(r.out, HasSubstr("plugin_reported_error: 2"));
    auto rej = cdphub(m() + "rejected --source pos-csv");
    EXPECT_THAT(rej.out, HasSubstr("May 2024 [store 1].CSV:4: local time 03/10/2024 2:30 AM "
                                   "does not exist in America/New_York"));
    EXPECT_THAT(rej.out, HasSubstr("May 2024 [store 1].CSV:5:"));
    auto shown = cdphub(m() + "profile show pos_customer_id:C1");
    EXPECT_THAT(shown.out, HasSubstr("pos-csv"));
    // Again: everything is already there, and the instance's cursor was never set.
    auto again = cdphub(m() + "import " + file() + " --source pos-csv");
    ASSERT_EQ(again.code, 0) << again.out;
    EXPECT_THAT(again.out, HasSubstr("records stored     0"));
    EXPECT_THAT(again.out, HasSubstr("already stored     2"));
}

TEST_F(ImportCsv, NeedsACsvFileInstance) {
    auto none = cdphub(m() + "import " + file() + " --source nope");
    EXPECT_EQ(none.code, 1);
    EXPECT_THAT(none.out, HasSubstr("there is no instance 'nope'"));
    auto other = cdphub(m() + "import " + file() + " --source other");
    EXPECT_EQ(other.code, 1);
    EXPECT_THAT(other.out, HasSubstr("uses plugin 'test-connector'"));
}

}  // namespace
}  // namespace cdphub
