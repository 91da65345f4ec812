/*
 * check_pkt.c - the packetdrill parser and runner (pkt/).
 *
 * The parser: each construct of the language lands in the right field
 * (times, packets with options, calls with their arguments and errno,
 * commands, code, guards), and malformed lines give LINE:COL messages.
 * The runner: a short passive open passes under bsd; the same script with
 * a wrong flag, a wrong acknowledgement number or a wrong result fails at
 * that line; a window difference passes only with lenient.
 */
#include "check_util.h"

#include "pktdrill.h"

#include <string.h>

static pkt_script *parse(const char *text, char *err, size_t n)
{
    return pkt_parse("t.pkt", text, strlen(text), err, n);
}

START_TEST(parse_constructs)
{
    char err[256];
    pkt_script *s = parse("--ip_version=ipv6\n"
                          "--tolerance_usecs=75000\n"
                          "// a comment\n"
                          " 0.00 `sysctl -w net.inet.tcp.insecure_rst=1`\n"
                          "+0.10 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                          "+0.00 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n"
                          "+0.00 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0\n"
                          " 1.00...6.00 connect(3, ..., ...) = -1 ETIMEDOUT (Operation timed out)\n"
                          "#ifdef FreeBSD\n"
                          "*      > S  0:0(0) win 65535 <...>\n"
                          "#endif\n"
                          "+0.1~+0.2 < S. 0:10(10) ack 1 win 32767 <mss 1440,nop,wscale 6,sackOK,TS val 7 ecr 9>\n"
                          "+0.00 > S. ...(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>\n"
                          "+0.00 %{ assert tcpi_state == TCPI_LISTEN }%\n",
                          err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_uint_eq(s->nopt, 2);
    ck_assert_str_eq(s->opt[0].name, "ip_version");
    ck_assert_str_eq(s->opt[0].value, "ipv6");
    ck_assert_uint_eq(s->nev, 9);
    ck_assert_int_eq(s->ev[0].kind, PKT_SHELL);
    ck_assert_str_eq(s->ev[0].text, "sysctl -w net.inet.tcp.insecure_rst=1");
    ck_assert_int_eq(s->ev[1].t.kind, PKT_T_REL);
    ck_assert_int_eq(s->ev[1].t.us, 100000);
    ck_assert_int_eq(s->ev[2].call.arg[2].kind, PKT_X_OR);
    ck_assert_uint_eq(s->ev[2].call.arg[2].nkid, 2);
    ck_assert_str_eq(s->ev[3].call.arg[3].kid[0].text, "ECONNRESET");
    const pkt_event *c = &s->ev[4];
    ck_assert(c->t.blocking);
    ck_assert_int_eq(c->t.us, 1000000);
    ck_assert_int_eq(c->t.end_us, 6000000);
    ck_assert_int_eq(c->call.ret.num, -1);
    ck_assert_str_eq(c->call.err, "ETIMEDOUT");
    ck_assert_int_eq(c->call.arg[1].kind, PKT_X_ANY);
    const pkt_event *o = &s->ev[5];
    ck_assert_int_eq(o->t.kind, PKT_T_ANY);
    ck_assert_int_eq(o->seg.opts, 2);
    ck_assert_uint_eq(o->nguard, 1);
    ck_assert_str_eq(o->guard[0].name, "FreeBSD");
    const pkt_event *in = &s->ev[6];
    ck_assert_int_eq(in->kind, PKT_IN);
    ck_assert(in->t.range);
    ck_assert_int_eq(in->t.range_end_us, 200000);
    ck_assert_uint_eq(in->seg.flags, SM_TH_SYN | SM_TH_ACK);
    ck_assert_uint_eq(in->seg.len, 10);
    ck_assert_uint_eq(in->seg.nopt, 5);
    ck_assert_uint_eq(in->seg.opt[0].a, 1440);
    ck_assert_uint_eq(in->seg.opt[2].a, 6);
    ck_assert_uint_eq(in->seg.opt[4].kind, PKT_OPT_TS);
    ck_assert_uint_eq(in->seg.opt[4].b, 9);
    ck_assert_uint_eq(in->nguard, 0);
    ck_assert(s->ev[7].seg.seq_any);
    ck_assert_int_eq(s->ev[8].kind, PKT_CODE);
    pkt_script_free(s);
}
END_TEST

START_TEST(parse_errors)
{
    static const struct { const char *text, *msg; } t[] = {
        {"0 > S 0:1(0) win 1\n", "t.pkt:1:7: start:end does not span the length (0:1(0))"},
        {"0 > S 0:0(0) <mss>\n", "t.pkt:1:18: expected an MSS value"},
        {"0 socket() 3\n", "t.pkt:1:12: expected '= result' after the call"},
        {"* socket() = 3\n", "t.pkt:1:3: '*' (any time) is for outbound packets only"},
        {"0 > Q 0:0(0)\n", "t.pkt:1:5: expected TCP flags (S, F, R, P, ., U, E, W)"},
        {"#endif\n", "t.pkt:1:1: #endif without #ifdef"},
        {"0 `ls\n", "t.pkt:1:3: unterminated `command`"},
        {"0 > S 0:0(0) win 70000\n", "t.pkt:1:14: window 70000 does not fit 16 bits"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char err[256];
        pkt_script *s = parse(t[i].text, err, sizeof err);
        ck_assert_msg(s == NULL, "%s parsed", t[i].text);
        ck_assert_str_eq(err, t[i].msg);
    }
}
END_TEST

static const char *passive =
    "--tolerance_usecs=10000\n"
    " 0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0.00 bind(3, ..., ...) = 0\n"
    "+0.00 listen(3, 1) = 0\n"
    "+0.10 < S 0:0(0) win 32767 <mss 1460,sackOK,eol,eol>\n"
    "+0.00 > S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>\n"
    "+0.10 < . 1:1(0) ack 1 win 32767\n"
    "+0.00 accept(3, ..., ...) = 4\n"
    "+0.00 getsockopt(4, SOL_SOCKET, SO_RCVBUF, [65700], [4]) = 0\n"
    "+0.00 %{ assert tcpi_state == TCPI_ESTABLISHED }%\n";

static pkt_verdict run(const char *text, const char *profile, bool lenient, int *line)
{
    char err[256];
    pkt_script *s = parse(text, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    pkt_run_opts o;
    memset(&o, 0, sizeof o);
    o.lenient = lenient;
    pkt_outcome oc;
    pkt_run(s, sm_profile_find(profile), &o, &oc);
    pkt_script_free(s);
    *line = oc.line;
    return oc.verdict;
}

static char *replace(const char *text, const char *from, const char *to)
{
    static char buf[2048];
    const char *at = strstr(text, from);
    ck_assert(at != NULL);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return buf;
}

START_TEST(run_verdicts)
{
    int line;
    ck_assert_int_eq(run(passive, "bsd", false, &line), PKT_PASS);
    ck_assert_int_eq(run(replace(passive, "> S. 0:0(0) ack 1", "> S 0:0(0) ack 1"), "bsd",
                         false, &line), PKT_FAIL);
    ck_assert_int_eq(line, 6);
    ck_assert_int_eq(run(replace(passive, "ack 1 win 65535", "ack 2 win 65535"), "bsd", false,
                         &line), PKT_FAIL);
    ck_assert_int_eq(line, 6);
    ck_assert_int_eq(run(replace(passive, "accept(3, ..., ...) = 4", "accept(3, ..., ...) = 5"),
                         "bsd", false, &line), PKT_FAIL);
    ck_assert_int_eq(line, 8);
    ck_assert_int_eq(run(replace(passive, "TCPI_ESTABLISHED", "TCPI_CLOSE_WAIT"), "bsd", false,
                         &line), PKT_FAIL);
    ck_assert_int_eq(line, 10);
    /* Linux's SYN+ACK differs in options and window; its SO_RCVBUF too. */
    ck_assert_int_eq(run(passive, "linux", false, &line), PKT_FAIL);
    ck_assert_int_eq(line, 6);
    ck_assert_int_eq(run(passive, "linux", true, &line), PKT_PASS);
    /* The same script, run twice, gives the same verdict (virtual time). */
    ck_assert_int_eq(run(passive, "bsd", false, &line), PKT_PASS);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pkt");
    TCase *t = tcase_create("core");
    tcase_add_test(t, parse_constructs);
    tcase_add_test(t, parse_errors);
    tcase_add_test(t, run_verdicts);
    suite_add_tcase(s, t);
    return s;
}

CHECK_MAIN(suite)
