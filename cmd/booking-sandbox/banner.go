package main

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// tokenPath is the token exchange's path on the sandbox, as on Booking's
// authentication host.
const tokenPath = "/token-based-authentication/exchange"

// baseURL returns the URL a client on this machine reaches the listener
// at: an unspecified address (0.0.0.0, ::) is reached on 127.0.0.1.
func baseURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printBanner writes, in one write, what a person or a script needs to
// use the sandbox at base: its URLs, its test credentials and the
// variables for attachmentd, each on a line of its own beginning with
// "export " so that a script can source them.
func printBanner(w io.Writer, base string, cfg config) error {
	o := cfg.opts
	var b strings.Builder
	fmt.Fprintf(&b, "booking-sandbox: a strict emulation of Booking.com's token exchange and Messaging API, for tests.\n"+
		"Nothing here reaches Booking.\n\n")
	fmt.Fprintf(&b, "  base URL        %s\n", base)
	fmt.Fprintf(&b, "  token exchange  %s\n", base+tokenPath)
	fmt.Fprintf(&b, "  client id       %s\n", o.ClientID)
	fmt.Fprintf(&b, "  client secret   %s\n", o.ClientSecret)
	fmt.Fprintf(&b, "  control API     %s\n\n", base+controlPrefix)
	fmt.Fprintf(&b, "These are test credentials, printed on purpose: they open this sandbox and nothing else.\n"+
		"Point attachmentd at it with:\n\n")
	for _, kv := range [][2]string{
		{"BOOKING_API_URL", base},
		{"BOOKING_AUTH_URL", base + tokenPath},
		{"BOOKING_CLIENT_ID", o.ClientID},
		{"BOOKING_CLIENT_SECRET", o.ClientSecret},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintf(&b, "\nSettings: %s.\n", settings(cfg))
	_, err := io.WriteString(w, b.String())
	return err
}

// settings describes the readings and limits in effect, in a few words
// each.
func settings(cfg config) string {
	o := cfg.opts
	to := "exclusive"
	if o.InclusiveTo {
		to = "inclusive"
	}
	ok := `the string "true"`
	if o.BooleanOK {
		ok = "the boolean true"
	}
	denied := "none"
	if len(o.DeniedPropertyIDs) > 0 {
		ids := make([]string, len(o.DeniedPropertyIDs))
		for i, id := range o.DeniedPropertyIDs {
			ids[i] = strconv.FormatInt(id, 10)
		}
		denied = strings.Join(ids, ", ")
	}
	return strings.Join([]string{
		fmt.Sprintf("1MB is %d bytes", o.MegabyteBytes),
		"download's to is " + to,
		"data.ok is " + ok,
		fmt.Sprintf("tokens live %v", o.TokenTTL),
		fmt.Sprintf("at most %d bytes stored", o.MaxStoredBytes),
		fmt.Sprintf("latency %v", cfg.latency),
		"denied properties: " + denied,
	}, "; ")
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single
// quote written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
