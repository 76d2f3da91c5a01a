#include "probe/starttls.h"

#include <gtest/gtest.h>

namespace bulkhead::probe {
namespace {

using Step = StartTlsDialog::Step;

TEST(StartTlsDialogTest, NoneIsDoneAtOnce) {
  StartTlsDialog d(StartTls::kNone);
  EXPECT_TRUE(d.Done());
  EXPECT_EQ(d.Start(), "");
}

TEST(StartTlsDialogTest, SmtpMultilineRepliesInPieces) {
  StartTlsDialog d(StartTls::kSmtp);
  std::string send, err;
  EXPECT_EQ(d.Start(), "");
  EXPECT_EQ(d.Feed("220-mx.test ESMTP\r\n220 ", &send, &err), Step::kNeedMore);
  EXPECT_EQ(d.Feed("ready\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(send, "EHLO bulkhead.invalid\r\n");
  EXPECT_EQ(d.Feed("250-mx.test\r\n250-PIPELINING\r\n", &send, &err), Step::kNeedMore);
  EXPECT_EQ(d.Feed("250 STARTTLS\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(send, "STARTTLS\r\n");
  EXPECT_EQ(d.Feed("220 2.0.0 go\r\n", &send, &err), Step::kDone);
  EXPECT_TRUE(d.Done());
}

TEST(StartTlsDialogTest, SmtpRefusalIsAnError) {
  StartTlsDialog d(StartTls::kSmtp);
  std::string send, err;
  d.Start();
  ASSERT_EQ(d.Feed("220 hi\r\n", &send, &err), Step::kSend);
  ASSERT_EQ(d.Feed("250 hi\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(d.Feed("454 TLS not available\r\n", &send, &err), Step::kFailed);
  EXPECT_NE(err.find("454"), std::string::npos) << err;
}

TEST(StartTlsDialogTest, ImapSkipsUntaggedLines) {
  StartTlsDialog d(StartTls::kImap);
  std::string send, err;
  d.Start();
  ASSERT_EQ(d.Feed("* OK IMAP4rev1 ready\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(send, "b1 STARTTLS\r\n");
  EXPECT_EQ(d.Feed("* CAPABILITY IMAP4rev1\r\nb1 OK Begin TLS\r\n", &send, &err), Step::kDone);
}

TEST(StartTlsDialogTest, ImapNoIsAnError) {
  StartTlsDialog d(StartTls::kImap);
  std::string send, err;
  d.Start();
  ASSERT_EQ(d.Feed("* OK hi\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(d.Feed("b1 NO nope\r\n", &send, &err), Step::kFailed);
}

TEST(StartTlsDialogTest, Pop3) {
  StartTlsDialog d(StartTls::kPop3);
  std::string send, err;
  d.Start();
  ASSERT_EQ(d.Feed("+OK POP3 ready\r\n", &send, &err), Step::kSend);
  EXPECT_EQ(send, "STLS\r\n");
  EXPECT_EQ(d.Feed("+OK Begin TLS\r\n", &send, &err), Step::kDone);
  StartTlsDialog bad(StartTls::kPop3);
  bad.Start();
  EXPECT_EQ(bad.Feed("-ERR no\r\n", &send, &err), Step::kFailed);
}

TEST(StartTlsDialogTest, LdapSuccessAndRefusal) {
  StartTlsDialog d(StartTls::kLdap);
  std::string send, err;
  std::string req = d.Start();
  ASSERT_EQ(req.size(), 31u);
  EXPECT_EQ(static_cast<unsigned char>(req[0]), 0x30);
  // LDAPMessage { id 1, ExtendedResponse { success, "", "" } }
  const char ok[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                     0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00};
  EXPECT_EQ(d.Feed(std::string_view(ok, 5), &send, &err), Step::kNeedMore);
  EXPECT_EQ(d.Feed(std::string_view(ok + 5, sizeof(ok) - 5), &send, &err), Step::kDone);

  StartTlsDialog refused(StartTls::kLdap);
  refused.Start();
  const char no[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07,
                     0x0a, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00};
  EXPECT_EQ(refused.Feed(std::string_view(no, sizeof(no)), &send, &err), Step::kFailed);
  EXPECT_NE(err.find("resultCode 2"), std::string::npos) << err;
}

TEST(StartTlsDialogTest, Postgres) {
  StartTlsDialog d(StartTls::kPostgres);
  std::string send, err;
  EXPECT_EQ(d.Start(), std::string("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8));
  EXPECT_EQ(d.Feed("S", &send, &err), Step::kDone);
  StartTlsDialog n(StartTls::kPostgres);
  n.Start();
  EXPECT_EQ(n.Feed("N", &send, &err), Step::kFailed);
}

TEST(StartTlsDialogTest, ChattyServerIsCapped) {
  StartTlsDialog d(StartTls::kSmtp);
  std::string send, err;
  d.Start();
  std::string junk(kMaxStartTlsBytes + 1, 'x');
  EXPECT_EQ(d.Feed(junk, &send, &err), Step::kFailed);
}

}  // namespace
}  // namespace bulkhead::probe
