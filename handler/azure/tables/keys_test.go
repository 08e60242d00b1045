package tables

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nimbusflow/connector/handler/nimbus"
)

// forbiddenInAzure reports the characters Azure rejects in keys, plus the ones this package
// keeps out of stored keys on purpose (' and %).
func forbiddenInAzure(r rune) bool {
	return strings.ContainsRune(`/\#?'%`, r) || r <= 0x1F || (r >= 0x7F && r <= 0x9F)
}

// checkStored checks what the service will see: no forbidden character, and no more UTF-16
// code units than the key has bytes, so that any key of MaxKeyLength bytes fits the
// service's 512-unit cap.
func checkStored(t *testing.T, key, stored string) {
	t.Helper()
	if i := strings.IndexFunc(stored, forbiddenInAzure); i >= 0 {
		t.Errorf("encodeKey(%q) = %q holds forbidden %q", key, stored, stored[i])
	}
	if n := len(utf16.Encode([]rune(stored))); n > len(key) {
		t.Errorf("encodeKey(%q) has %d UTF-16 units, more than the key's %d bytes", key, n, len(key))
	}
}

func TestKeyRoundTrip(t *testing.T) {
	cases := []struct{ name, key string }{
		{"plain", "tenant-42"},
		{"slash", "a/b"},
		{"backslash", `a\b`},
		{"hash", "a#b"},
		{"question", "a?b"},
		{"quote", "O'Brien"},
		{"quotes only", "''"},
		{"double quote", `say "hi"`},
		{"percent", "100%"},
		{"percent escape lookalike", "%25%2F"},
		{"tilde", "~7E~"},
		{"tab newline", "a\tb\nc"},
		{"NUL", "\x00"},
		{"DEL", "\x7f"},
		{"C1", "\u0080\u0085\u009f"},
		{"just above C1", "\u00a0"},
		{"non-ASCII", "Zürich"},
		{"CJK", "日本語"},
		{"emoji", "😀👍🏽"},
		{"reserved block", "\ue000\ue02f\ue05c\ue0a0\ue0fe\ue0ff"},
		{"mark twice", "\ue0ff\ue0ff"},
		{"escaped next to reserved", "/\ue02f/"},
		{"just outside reserved", "\ud7ff\ue100\uf8ff"},
		{"max rune", "\U0010FFFF"},
		{"BMP max", "\uFFFF"},
		{"all slashes", strings.Repeat("/", nimbus.MaxKeyLength)},
		{"all reserved", strings.Repeat("\ue0ff", nimbus.MaxKeyLength/3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stored := encodeKey(c.key)
			checkStored(t, c.key, stored)
			got, err := decodeKey(stored)
			if err != nil || got != c.key {
				t.Fatalf("decodeKey(encodeKey(%q)) = %q, %v", c.key, got, err)
			}
		})
	}
}

// TestKeyRoundTripEveryRune covers every Unicode scalar value alone and between letters.
func TestKeyRoundTripEveryRune(t *testing.T) {
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		for _, key := range []string{string(r), "a" + string(r) + "b"} {
			stored := encodeKey(key)
			if i := strings.IndexFunc(stored, forbiddenInAzure); i >= 0 {
				t.Fatalf("encodeKey(%q) = %q holds forbidden %q", key, stored, stored[i])
			}
			if got, err := decodeKey(stored); err != nil || got != key {
				t.Fatalf("decodeKey(encodeKey(%q)) = %q, %v", key, got, err)
			}
		}
	}
}

func TestDecodeKeyRejectsForeignKeys(t *testing.T) {
	for _, stored := range []string{
		"\ue0ff",           // mark at the end
		"\ue0ffa",          // mark before an unreserved rune
		"\ue0a0",           // reserved rune that is no escape
		"\ue041",           // escape of 'A', which is never escaped
		"a\xffb",           // not UTF-8
		"ok\ue0ff\xee\x83", // truncated rune after the mark
	} {
		if got, err := decodeKey(stored); err == nil {
			t.Errorf("decodeKey(%q) = %q, want an error", stored, got)
		}
	}
}

// TestPrefixProperty checks, for every pair of strings of up to two runes over an alphabet of
// troublemakers, that encodeKey(p) is a prefix of encodeKey(k) exactly when p is one of k.
func TestPrefixProperty(t *testing.T) {
	alphabet := []string{"a", "/", "'", "%", "\x00", "\u0085", "\u00fc", "\ue000", "\ue02f", "\ue0a0", "\ue0ff", "\ue100", "\uffff", "😀"}
	strs := []string{""}
	for _, x := range alphabet {
		strs = append(strs, x)
		for _, y := range alphabet {
			strs = append(strs, x+y)
		}
	}
	for _, k := range strs {
		for _, p := range strs {
			if got, want := strings.HasPrefix(encodeKey(k), encodeKey(p)), strings.HasPrefix(k, p); got != want {
				t.Errorf("HasPrefix(encode(%+q), encode(%+q)) = %v, HasPrefix of the keys = %v", k, p, got, want)
			}
		}
	}
}

// FuzzKeyEncoding checks the round trip and the prefix property: encodeKey(p) is a prefix of
// encodeKey(k) exactly when p is a prefix of k.
func FuzzKeyEncoding(f *testing.F) {
	for _, s := range [][2]string{
		{"a/b", "a/"}, {"a/b", "a\ue02f"}, {"\ue02f", "/"}, {"\ue0ff\ue0ff", "\ue0ff"},
		{"O'Brien", "O'"}, {"%25", "%"}, {"Zürich", "Zü"}, {"😀1", "😀"}, {"x", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, k, p string) {
		if !utf8.ValidString(k) || !utf8.ValidString(p) {
			return
		}
		ek, ep := encodeKey(k), encodeKey(p)
		checkStored(t, k, ek)
		if got, err := decodeKey(ek); err != nil || got != k {
			t.Fatalf("decodeKey(encodeKey(%q)) = %q, %v", k, got, err)
		}
		if got, want := strings.HasPrefix(ek, ep), strings.HasPrefix(k, p); got != want {
			t.Fatalf("HasPrefix(encode(%q), encode(%q)) = %v, HasPrefix of the keys = %v", k, p, got, want)
		}
	})
}

// compare16 compares strings the way the service does: by UTF-16 code units.
func compare16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func TestUpperBound(t *testing.T) {
	cases := []struct {
		prefix, want string
		ok           bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"ab", "ac", true},
		{"a~", "a\x7f", true},
		{"a\uD7FF", "a\U00010000", true},       // the successor of U+D7FF is the first surrogate pair
		{"a\U0001F600", "a\U0001F601", true},   // within surrogate pairs: next code point
		{"a\U0010FFFF", "a\uE000", true},       // after the last pair come U+E000…U+FFFF
		{"a\uFFFF", "b", true},                 // U+FFFF is greatest: carry
		{"ab\uFFFF\uFFFF", "ac", true},         // carry twice
		{"\uFFFF", "", false},                  // no string is above every "\uFFFF…"
		{"\uFFFF\uFFFF", "", false},            //
		{"\ue0ff\ue0ff", "\ue0ff\ue100", true}, // encoded reserved rune
		{"Z\u00fc", "Z\u00fd", true},           //
		{"x\U0010FFFF\uFFFF", "x\uE000", true}, // carry, then the pair's successor
		{"x\uD7FF\uFFFF", "x\U00010000", true}, //
		{"x\U0010FFFF\U0010FFFF", "x\U0010FFFF\uE000", true},
	}
	for _, c := range cases {
		got, ok := upperBound(c.prefix)
		if got != c.want || ok != c.ok {
			t.Errorf("upperBound(%+q) = %+q, %v; want %+q, %v", c.prefix, got, ok, c.want, c.ok)
		}
	}
}

// TestUpperBoundSelectsThePrefixRange checks, in the service's order, that the keys in
// [prefix, upperBound(prefix)) are exactly those that start with prefix.
func TestUpperBoundSelectsThePrefixRange(t *testing.T) {
	runes := []string{"a", "b", "~", "\u00fc", "\uD7FF", "\uE000", "\ue0ff", "\uFFFD", "\uFFFF", "\U00010000", "\U0001F600", "\U0010FFFF"}
	var keys []string
	for _, x := range runes {
		keys = append(keys, x)
		for _, y := range runes {
			keys = append(keys, x+y)
			for _, z := range runes {
				keys = append(keys, x+y+z)
			}
		}
	}
	for _, prefix := range keys {
		if len([]rune(prefix)) > 2 {
			continue
		}
		ub, bounded := upperBound(prefix)
		for _, k := range keys {
			in := compare16(k, prefix) >= 0 && (!bounded || compare16(k, ub) < 0)
			if want := strings.HasPrefix(k, prefix); in != want {
				t.Fatalf("prefix %+q, bound %+q (%v): key %+q in range = %v, has prefix = %v", prefix, ub, bounded, k, in, want)
			}
		}
	}
}

func TestODataString(t *testing.T) {
	cases := map[string]string{
		"":                 "''",
		"a":                "'a'",
		"O'Brien":          "'O''Brien'",
		"''":               "''''''",
		"a eq 'b' or true": "'a eq ''b'' or true'",
	}
	for in, want := range cases {
		if got := odataString(in); got != want {
			t.Errorf("odataString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestListFilter(t *testing.T) {
	cases := []struct{ pk, prefix, want string }{
		{"p", "", "PartitionKey eq 'p'"},
		{"it's", "", "PartitionKey eq 'it''s'"},
		{"p", "ab", "PartitionKey eq 'p' and RowKey ge 'ab' and RowKey lt 'ac'"},
		{"p", "a'", "PartitionKey eq 'p' and RowKey ge 'a''' and RowKey lt 'a('"},
		{"p", "\uFFFF", "PartitionKey eq 'p' and RowKey ge '\uFFFF'"},
	}
	for _, c := range cases {
		if got := listFilter(c.pk, c.prefix); got != c.want {
			t.Errorf("listFilter(%q, %q) =\n  %s\nwant\n  %s", c.pk, c.prefix, got, c.want)
		}
	}
}
