// The csv-file plugin: its RFC 4180 reader, money and local-time parsing on their own, then the
// real plugin into a real store: a POS export with every quirk, bad rows rejected with file:line,
// files growing, and a kill mid-file.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../../plugins/csv-file/csv_reader.hpp"
#include "../../plugins/csv-file/local_time.hpp"
#include "../../plugins/csv-file/money.hpp"
#include "connectors/connector_harness.hpp"

namespace cdphub::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text, bool append = false) {
    std::ofstream(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc)) << text;
}

// ---- The parts ----------------------------------------------------------------------------

TEST(CsvReader, QuotesEmbeddedNewlinesDoubledQuotesCrlfAndOffsets) {
    ConnectorHarness h("csv-file");  // only for its temporary directory
    const auto p = h.dir() / "a.csv";
    const std::string text =
        "id,note,amt\r\n1,\"Smith, \"\"Jo\"\"\nsecond line\",\"$1,234.56\"\r\n2,plain,"
        "\"\"\n3,a\"b,x\r\n4,\"open";
    write(p, text);
    csv::CsvReader r(p.string(), 0, ',', 1 << 20);
    ASSERT_EQ(r.next(), csv::CsvReader::Result::record);
    EXPECT_EQ(r.fields(), (std::vector<std::string>{"id", "note", "amt"}));
    EXPECT_EQ(r.consumed(), 13u);
    ASSERT_EQ(r.next(), csv::CsvReader::Result::record);
    EXPECT_EQ(r.fields(),
              (std::vector<std::string>{"1", "Smith, \"Jo\"\nsecond line", "$1,234.56"}));
    EXPECT_EQ(r.lines(), 2u);  // the embedded line break and the record's own
    ASSERT_EQ(r.next(), csv::CsvReader::Result::record);
    EXPECT_EQ(r.fields(), (std::vector<std::string>{"2", "plain", ""}));
    ASSERT_EQ(r.next(), csv::CsvReader::Result::record);
    EXPECT_EQ(r.fields(), (std::vector<std::string>{"3", "a\"b", "x"}));  // stray quote kept
    const auto before_tail = r.consumed();
    ASSERT_EQ(r.next(), csv::CsvReader::Result::tail);
    EXPECT_EQ(r.consumed(), before_tail);  // a tail is not consumed until accepted
    EXPECT_FALSE(r.accept_tail());         // it ends inside a quote
    EXPECT_EQ(r.consumed(), text.size());
    EXPECT_EQ(r.next(), csv::CsvReader::Result::end);
    // Resuming from an offset reads the same record again.
    csv::CsvReader again(p.string(), 13, ',', 1 << 20);
    ASSERT_EQ(again.next(), csv::CsvReader::Result::record);
    EXPECT_EQ(again.fields()[0], "1");
}

TEST(CsvMoney, PosCurrencyFormatsToMinorUnits) {
    auto minor = [](const char* s, const char* cur = "USD", char dec = '.') {
        auto m = csv::parse_money(s, cur, dec);
        return m.minor ? *m.minor : INT64_MIN;
    };
    EXPECT_EQ(minor("$1,234.56"), 123456);
    EXPECT_EQ(minor("-$5.00"), -500);
    EXPECT_EQ(minor("$-5.00"), -500);
    EXPECT_EQ(minor("($5.00)"), -500);
    EXPECT_EQ(minor("(5)"), -500);
    EXPECT_EQ(minor("\xE2\x88\x92"
                    "3.50"),
              -350);  // U+2212
    EXPECT_EQ(minor("USD 12.5"), 1250);
    EXPECT_EQ(minor("0.99"), 99);
    EXPECT_EQ(minor("\xC2\xA5"
                    "1,500",
                    "JPY"),
              1500);
    EXPECT_EQ(minor("1500.00", "JPY"), 1500);
    EXPECT_EQ(minor("1.299", "KWD"), 1299);
    EXPECT_EQ(minor("\xE2\x82\xAC"
                    "1.234,50",
                    "EUR", ','),
              123450);
    for (const char* bad : {"", "abc", "1.234", "1.2.3", "$5-", "(5.00", "5.00)", "12 EUR"})
        EXPECT_EQ(minor(bad), INT64_MIN) << bad;
    EXPECT_NE(csv::parse_money("1.234", "USD").error.find("USD has 2 decimal"), std::string::npos);
}

TEST(CsvLocalTime, DaylightSavingGapsOverlapsAndFixedOffsets) {
    auto ny = csv::TimeZone::load("America/New_York", "/usr/share/zoneinfo");
    ASSERT_TRUE(ny) << "tzdata is needed (apt-get install tzdata)";
    auto at = [&](const csv::TimeZone& z, const char* d, const char* t) {
        auto r = z.to_utc(*csv::parse_date(d, "iso") + *csv::parse_time(t));
        return r.kind == csv::TimeZone::Kind::nonexistent ? std::string("gap")
                                                          : csv::format_rfc3339(r.utc, r.offset);
    };
    EXPECT_EQ(at(*ny, "2024-01-15", "12:00"), "2024-01-15T12:00:00-05:00");
    EXPECT_EQ(at(*ny, "2024-07-01", "12:00"), "2024-07-01T12:00:00-04:00");
    EXPECT_EQ(at(*ny, "2024-03-10", "01:59:59"), "2024-03-10T01:59:59-05:00");
    EXPECT_EQ(at(*ny, "2024-03-10", "02:30"), "gap");
    EXPECT_EQ(at(*ny, "2024-03-10", "03:00"), "2024-03-10T03:00:00-04:00");
    EXPECT_EQ(at(*ny, "2024-11-03", "01:30"), "2024-11-03T01:30:00-04:00");  // earliest
    EXPECT_EQ(at(*ny, "2024-11-03", "02:00"), "2024-11-03T02:00:00-05:00");
    auto berlin = csv::TimeZone::load("Europe/Berlin", "/usr/share/zoneinfo");
    ASSERT_TRUE(berlin);
    EXPECT_EQ(at(*berlin, "2024-03-31", "02:30"), "gap");
    EXPECT_EQ(at(*berlin, "2024-10-27", "02:30"), "2024-10-27T02:30:00+02:00");
    EXPECT_EQ(at(csv::TimeZone::fixed(*csv::parse_fixed_offset("+05:30"), "+05:30"), "2024-03-10",
                 "02:30"),
              "2024-03-10T02:30:00+05:30");
    EXPECT_FALSE(csv::TimeZone::load("../etc/passwd", "/usr/share/zoneinfo"));
    EXPECT_FALSE(csv::TimeZone::load("Mars/Olympus", "/usr/share/zoneinfo"));
    EXPECT_EQ(*csv::parse_time("1:05 PM"), 13 * 3600 + 5 * 60);
    EXPECT_EQ(*csv::parse_time("12:10 AM"), 600);
    EXPECT_EQ(*csv::parse_date("05/01/2024", "us"), *csv::parse_date("2024-05-01", "iso"));
    EXPECT_EQ(*csv::parse_date("01.05.2024", "eu"), *csv::parse_date("2024-05-01", "iso"));
    EXPECT_FALSE(csv::parse_date("2024-02-30", "iso"));
    EXPECT_FALSE(csv::parse_time("25:00"));
}

// ---- The plugin -----------------------------------------------------------------------------

json mapping() {
    return json::parse(R"({
      "type": "order",
      "record_id": "Transaction ID",
      "identifiers": {"pos_customer_id": "Customer ID", "email": "Email"},
      "occurred_at": {"date": "Date", "time": "Time", "date_format": "us",
                      "time_zone": "America/New_York", "time_zone_column": "Time Zone"},
      "order": {"id": "Transaction ID", "currency": "USD", "currency_column": "Currency",
                "total": "Net Sales", "tax": "Tax", "discount": "Discounts"},
      "line": {"name": "Item", "sku": "SKU", "quantity": "Qty", "price": "Price"},
      "properties": {"notes": "Notes", "location": "Location"}
    })");
}

const char* kHeader =
    "Date,Time,Time Zone,Transaction ID,Customer ID,Email,Item,SKU,Qty,Price,Discounts,"
    "Net Sales,Tax,Currency,Location,Notes\r\n";

struct CsvRig {
    CsvRig() : harness("csv-file", "pos-csv") {
        fs::create_directories(dir());
        configure(json::object());
    }
    fs::path dir() const { return harness.dir() / "exports"; }
    void configure(json extra) {
        json c = {{"directory", dir().string()},
                  {"mapping", mapping()},
                  {"batch_size", 7},
                  {"settle_seconds", 0}};
        c.update(extra);
        harness.configure(c);
    }
    // reason_code, reason and raw of each rejected record.
    std::vector<std::tuple<std::string, std::string, std::string>> rejections() const {
        std::vector<std::tuple<std::string, std::string, std::string>> out;
        SQLite::Database db(harness.db_path().string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(db,
                            "SELECT reason_code, reason, raw FROM rejected_records ORDER BY id");
        while (q.executeStep())
            out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString(),
                             q.getColumn(2).getString());
        return out;
    }
    ConnectorHarness harness;
};

TEST(CsvFileConnector, ImportsAPosExportWithEveryQuirkAndRejectsBadRowsWithFileAndLine) {
    CsvRig rig;
    std::string text =
        std::string("\xEF\xBB\xBF") + kHeader +
        // 2: a sale with a thousands separator, in the configured zone (EDT in May)
        "05/01/2024,9:30 "
        "AM,,T1,C1,ann@shop.io,Latte,SKU-1,2,$4.50,$0.00,\"$1,234.56\",$0.90,,Main,\r\n"
        // 3: a refund as a minus sign, zone from the Square-style column (Pacific)
        "05/02/2024,14:05:10,Pacific Time (US & "
        "Canada),T2,C1,,Latte,SKU-1,-1,$4.50,,-$5.00,,,Main,refund\r\n"
        // 4-5: a refund in parentheses, with a note holding a line break and doubled quotes
        "05/03/2024,10:00,,T3,C2,,Tea,SKU-2,-1,($5.00),,($5.00),,,Main,\"said \"\"too cold\"\"\nat "
        "pickup\"\r\n"
        // 6: yen, no decimals
        "05/04/2024,11:00,Asia/Tokyo,T4,C3,,Tea,SKU-2,3,\xC2\xA5"
        "500,,\"\xC2\xA5"
        "1,500\",,JPY,Tokyo,\r\n"
        // 7: a DST gap (no 02:30 on 10 March 2024 in New York): rejected
        "03/10/2024,2:30 AM,,T5,C4,,Tea,SKU-2,1,$3.00,,$3.00,,,Main,\r\n"
        // 8: an amount that is not one: rejected
        "05/05/2024,12:00,,T6,C5,,Tea,SKU-2,1,$3.00,,$3.0.0,,,Main,\r\n"
        // 9: a field short: rejected
        "05/05/2024,12:00,,T7,C5,,Tea,SKU-2,1,$3.00,,$3.00,,,Main\r\n"
        // 10: the autumn hour that happens twice: the first (EDT)
        "11/03/2024,1:30 AM,,T8,C6,,Tea,SKU-2,1,$3.00,,$3.00,,,Main,\r\n"
        // 11: no customer at all: the hub rejects it (no_identifier)
        "05/06/2024,12:00,,T9,,,Tea,SKU-2,1,$3.00,,$3.00,,,Main,\r\n"
        // 12: a discount written negative, the last row without a line break
        "05/07/2024,08:00,-03:00,T10,C7,,Tea,SKU-2,1,$10.00,-$1.00,$9.00,,,Main,";
    write(rig.dir() / "sales-2024-05.csv", text);
    auto r = rig.harness.sync();
    ASSERT_TRUE(r.status.ok()) << r.status.to_string();
    auto recs = rig.harness.records();
    ASSERT_EQ(recs.size(), 6u);
    const json& t1 = recs.at("T1");
    EXPECT_EQ(t1["occurred_at"], "2024-05-01T13:30:00.000Z");
    EXPECT_EQ(t1["order"]["total_minor"], 123456);
    EXPECT_EQ(t1["order"]["tax_minor"], 90);
    EXPECT_EQ(t1["order"]["lines"][0],
              json({{"sku", "SKU-1"}, {"name", "Latte"}, {"quantity", 2}, {"price_minor", 450}}));
    EXPECT_EQ(t1["identifiers"]["email"], "ann@shop.io");
    EXPECT_EQ(recs.at("T2")["order"]["total_minor"], -500);
    EXPECT_EQ(recs.at("T2")["order"]["status"], "refunded");
    EXPECT_EQ(recs.at("T2")["occurred_at"], "2024-05-02T21:05:10.000Z");  // PDT
    EXPECT_EQ(recs.at("T3")["order"]["total_minor"], -500);
    EXPECT_EQ(recs.at("T3")["properties"]["notes"], "said \"too cold\"\nat pickup");
    EXPECT_EQ(recs.at("T4")["order"]["currency"], "JPY");
    EXPECT_EQ(recs.at("T4")["order"]["total_minor"], 1500);
    EXPECT_EQ(recs.at("T4")["occurred_at"], "2024-05-04T02:00:00.000Z");
    EXPECT_EQ(recs.at("T8")["occurred_at"], "2024-11-03T05:30:00.000Z");
    EXPECT_EQ(recs.at("T10")["order"]["discount_minor"], 100);
    EXPECT_EQ(recs.at("T10")["occurred_at"], "2024-05-07T11:00:00.000Z");

    auto rej = rig.rejections();
    ASSERT_EQ(rej.size(), 4u);
    std::map<std::string, std::string> by_line;
    for (const auto& [code, reason, raw] : rej) {
        if (code == "no_identifier") {
            EXPECT_NE(raw.find("\"T9\""), std::string::npos);
            continue;
        }
        EXPECT_EQ(code, "plugin_reported_error");
        by_line[reason.substr(0, reason.find(' '))] = reason;
    }
    ASSERT_TRUE(by_line.count("sales-2024-05.csv:7:")) << json(by_line).dump();
    EXPECT_NE(by_line["sales-2024-05.csv:7:"].find("does not exist in America/New_York"),
              std::string::npos);
    EXPECT_NE(by_line["sales-2024-05.csv:8:"].find("\"$3.0.0\" is not an amount"),
              std::string::npos);
    EXPECT_NE(by_line["sales-2024-05.csv:9:"].find("15 field(s), the header 16"),
              std::string::npos);
    // The cursor is at the end of the file, after the header's and every row's lines.
    auto c = json::parse(rig.harness.cursor());
    EXPECT_EQ(c["file"], "sales-2024-05.csv");
    EXPECT_EQ(c["offset"], text.size());
    EXPECT_EQ(c["line"], 12);
    // Reading again changes nothing.
    ASSERT_TRUE(rig.harness.sync().status.ok());
    EXPECT_EQ(rig.harness.records().size(), 6u);
    EXPECT_EQ(rig.rejections().size(), 4u);
}

TEST(CsvFileConnector, ReadsGrowingFilesAndWaitsForAnUnfinishedLastRow) {
    CsvRig rig;
    rig.configure({{"settle_seconds", 3600}});
    const auto p = rig.dir() / "a.csv";
    write(p, std::string(kHeader) +
                 "05/01/2024,10:00,,A1,C1,,Tea,S,1,$1.00,,$1.00,,,Main,\r\n"
                 "05/01/2024,10:01,,A2,C1,,Tea,S,1,$1.00,,$1.0");  // being written
    ASSERT_TRUE(rig.harness.sync().status.ok());
    EXPECT_EQ(rig.harness.records().size(), 1u);
    write(p, "0,,,Main,\r\n05/01/2024,10:02,,A3,C2,,Tea,S,1,$1.00,,$2.00,,,Main,\r\n", true);
    ASSERT_TRUE(rig.harness.sync().status.ok());
    auto recs = rig.harness.records();
    EXPECT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs.at("A2")["order"]["total_minor"], 100);
    // A later file: the earlier one is done, the new one read from its start (after its header).
    write(rig.dir() / "b.csv",
          std::string(kHeader) + "05/02/2024,10:00,,B1,C3,,Tea,S,1,$1.00,,$1.00,,,Main,\r\n");
    ASSERT_TRUE(rig.harness.sync().status.ok());
    EXPECT_EQ(rig.harness.records().size(), 4u);
    EXPECT_EQ(json::parse(rig.harness.cursor())["file"], "b.csv");
    EXPECT_TRUE(rig.rejections().empty());
}

TEST(CsvFileConnector, KilledMidFileResumesWithEveryRowOnce) {
    CsvRig rig;
    rig.configure({{"batch_size", 20}});
    std::string text = kHeader;
    constexpr int kRows = 4000;
    for (int i = 0; i < kRows; ++i) {
        char row[1024];
        std::snprintf(row, sizeof row,
                      "05/%02d/2024,%d:%02d,,K%d,C%d,,Tea,S,1,$%d.%02d,,\"$%d,%03d.%02d\",,,Main,"
                      "\"note\n%d\"\r\n",
                      1 + i % 28, 8 + i % 10, i % 60, i, i % 300, i % 50, i % 100, i / 1000,
                      i % 1000, i % 100, i);
        text += row;
    }
    write(rig.dir() / "big.csv", text);
    bool killed = rig.harness.sync_killed_when([&] {
        try {
            return rig.harness.records().size() > 600;
        } catch (const std::exception&) {
            return false;  // the child is still creating the store
        }
    });
    EXPECT_TRUE(killed);
    const auto partial = rig.harness.records().size();
    EXPECT_LT(partial, static_cast<size_t>(kRows));
    auto mid = json::parse(rig.harness.cursor());
    EXPECT_LT(mid["offset"].get<size_t>(), text.size());
    ASSERT_TRUE(rig.harness.sync().status.ok());
    auto recs = rig.harness.records();
    ASSERT_EQ(recs.size(), static_cast<size_t>(kRows));
    for (int i = 0; i < kRows; ++i) {
        const json& r = recs.at("K" + std::to_string(i));
        EXPECT_EQ(r["order"]["total_minor"], (i / 1000) * 100000 + (i % 1000) * 100 + i % 100) << i;
        EXPECT_EQ(r["properties"]["notes"], "note\n" + std::to_string(i));
    }
    auto c = json::parse(rig.harness.cursor());
    EXPECT_EQ(c["offset"], text.size());
    EXPECT_EQ(c["line"], 1 + 2 * kRows);
    EXPECT_TRUE(rig.rejections().empty());
}

TEST(CsvFileConnector, AHeaderWithoutAMappedColumnIsAConfigErrorNamingIt) {
    CsvRig rig;
    write(rig.dir() / "x.csv", "Date,Time,Transaction ID\r\n05/01/2024,10:00,X1\r\n");
    auto r = rig.harness.sync();
    EXPECT_EQ(r.status.code, StatusCode::config_error);
    for (const char* col : {"has no column ", "\"Time Zone\"", "\"Net Sales\"", "x.csv"})
        EXPECT_NE(r.status.message.find(col), std::string::npos) << r.status.message;
    EXPECT_EQ(rig.harness.check().code, StatusCode::config_error);
    rig.configure(
        {{"mapping",
          {{"type", "identify"}, {"record_id", "id"}, {"occurred_at", {{"date", "d"}}}}}});
    auto bad = rig.harness.check();
    EXPECT_EQ(bad.code, StatusCode::config_error);
    EXPECT_NE(bad.message.find("time_zone"), std::string::npos) << bad.message;
}

}  // namespace
}  // namespace cdphub::test
