package tables

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Key encoding. Azure forbids / \ # ? and the control characters U+0000–U+001F and
// U+007F–U+009F in keys, and caps a key at 1 KiB, which Azurite (and, as far as we know,
// Azure) enforce as 512 UTF-16 code units. Percent-style escapes would triple the length of
// such characters and push a 512-byte key past that cap; instead each character that must not
// be stored verbatim becomes one character of the Private Use Area:
//
//   - an escaped rune r (all are below U+00A0) becomes U+E000+r;
//   - a rune of the reserved block U+E000–U+E0FF itself is stored as markRune followed by it.
//
// So the stored key never has more UTF-16 code units than the original has UTF-8 bytes, and
// every 512-byte key fits. It is a per-rune code in which no code word is a prefix of
// another, so encodeKey(p) is a prefix of encodeKey(k) exactly when p is a prefix of k,
// which is what prefix listing relies on.
const (
	reservedFirst = 0xE000
	reservedLast  = 0xE0FF
	markRune      = reservedLast
)

// mustEscape reports whether r must not be stored verbatim:
//   - / \ # ? and the control characters, which Azure forbids;
//   - ' because the SDK does not double it in the URLs of batch operations (it does for
//     single-entity calls), so a key with a quote could not be updated or deleted in a batch;
//   - % because Azure has a long-standing bug with '%' in keys used in URLs, and Azurite
//     fails batch deletes of such keys.
func mustEscape(r rune) bool {
	switch r {
	case '/', '\\', '#', '?', '\'', '%':
		return true
	}
	return r <= 0x1F || (r >= 0x7F && r <= 0x9F)
}

func reserved(r rune) bool { return r >= reservedFirst && r <= reservedLast }

func needsEncoding(r rune) bool { return mustEscape(r) || reserved(r) }

// encodeKey maps a valid UTF-8 key to the stored key.
func encodeKey(key string) string {
	if strings.IndexFunc(key, needsEncoding) < 0 {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 8)
	for _, r := range key {
		switch {
		case mustEscape(r):
			b.WriteRune(reservedFirst + r)
		case reserved(r):
			b.WriteRune(markRune)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var errBadStoredKey = errors.New("stored key is not in the encoding of this package")

// decodeKey inverts encodeKey. It accepts only what encodeKey produces, so a key written by
// something else is reported rather than silently misread.
func decodeKey(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errBadStoredKey
	}
	if strings.IndexFunc(s, reserved) < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	marked := false
	for _, r := range s {
		switch {
		case marked && reserved(r):
			b.WriteRune(r)
			marked = false
		case marked:
			return "", errBadStoredKey
		case r == markRune:
			marked = true
		case reserved(r) && mustEscape(r-reservedFirst):
			b.WriteRune(r - reservedFirst)
		case reserved(r):
			return "", errBadStoredKey
		default:
			b.WriteRune(r)
		}
	}
	if marked {
		return "", errBadStoredKey
	}
	return b.String(), nil
}

// upperBound returns the least string greater than every string that starts with prefix, in
// the order in which the service compares keys, or false when there is none (every rune of
// prefix is the greatest one).
//
// Azure Tables and Azurite (JavaScript string comparison) order keys by UTF-16 code units,
// not by code points: U+10000…U+10FFFF (surrogate pairs D800–DBFF) sort between U+D7FF and
// U+E000. So the successor of U+D7FF is U+10000, that of U+10FFFF is U+E000, and U+FFFF is
// the greatest rune and carries to the rune before it.
func upperBound(prefix string) (string, bool) {
	rs := []rune(prefix)
	for i := len(rs) - 1; i >= 0; i-- {
		if next, ok := successor16(rs[i]); ok {
			return string(rs[:i]) + string(next), true
		}
	}
	return "", false
}

// successor16 returns the rune right after r in UTF-16 code unit order.
func successor16(r rune) (rune, bool) {
	switch r {
	case 0xD7FF:
		return 0x10000, true
	case utf8.MaxRune:
		return 0xE000, true
	case 0xFFFF:
		return 0, false
	}
	return r + 1, true
}

// odataString quotes s as an OData string literal. The SDK escapes quotes in the keys of
// single-entity calls but not in filters.
func odataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// listFilter selects one partition and, when prefix is set, the row keys starting with it.
// Both arguments are encoded keys.
func listFilter(partitionKey, prefix string) string {
	f := "PartitionKey eq " + odataString(partitionKey)
	if prefix == "" {
		return f
	}
	f += " and RowKey ge " + odataString(prefix)
	if ub, ok := upperBound(prefix); ok {
		f += " and RowKey lt " + odataString(ub)
	}
	return f
}
