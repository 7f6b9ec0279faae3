package rules

import (
	"fmt"
	"sort"
	"strings"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// reservedSettings are the Flink settings the manager alone chooses for a
// job it runs on a shared compute pool: where the job restores from (the
// checked startFromSavepoint, never a raw path the user slips past it), the
// job ID it submits under, and the job's name. A user who could set them
// could restore from another team's savepoint or take over a job ID.
var reservedSettings = []struct {
	key    string
	prefix bool // every key that starts with key
	why    string
}{
	{"execution.savepoint.", true, restoreWhy},
	{"execution.savepoint-", true, restoreWhy}, // execution.savepoint-restore-mode
	{"execution.state-recovery.", true, restoreWhy},
	{"$internal.", true, "is internal to Flink (the manager submits the job under a job ID of its own)"},
	{"pipeline.name", false, "names the job (the manager names it after the parent)"},
}

const restoreWhy = "chooses the savepoint the job restores from"

// reservedWhy returns why key is reserved, or "" when a user may set it.
// Keys are compared trimmed and case-insensitively: no legitimate key
// differs from a reserved one only in that.
func reservedWhy(key string) string {
	k := strings.ToLower(strings.TrimSpace(key))
	for _, r := range reservedSettings {
		if k == r.key || (r.prefix && strings.HasPrefix(k, r.key)) {
			return r.why
		}
	}
	return ""
}

// configField is a map of Flink settings in a parent's spec.
type configField struct {
	name   string // e.g. spec.properties
	config map[string]string
}

// ReservedSetting returns, as one sentence a user can act on, why a parent's
// spec sets a Flink setting only the manager may choose, or "" when it sets
// none. It applies to what runs on a compute pool: every Statement (its
// properties, its flinkConfiguration and the SET statements of its SQL) and
// a FlinkApplication in session mode (its flinkConfiguration). An
// application run by the Flink Kubernetes Operator has a cluster of its
// own, where these settings reach no one else's job or savepoint, so
// nothing is reserved there.
func ReservedSetting(obj cmfv1.Parent) string {
	var fields []configField
	var sql, way string
	switch p := obj.(type) {
	case *cmfv1.Statement:
		fields = []configField{{"spec.properties", p.Spec.Properties}, {"spec.flinkConfiguration", p.Spec.FlinkConfiguration}}
		sql = p.Spec.Statement
		way = fmt.Sprintf("to start from one of its savepoints, set spec.startFromSavepoint (kubectl savepoint start -s %s --savepoint NAME)", p.Name)
	case *cmfv1.FlinkApplication:
		if p.Spec.ComputePoolName == "" {
			return ""
		}
		fields = []configField{{"spec.flinkConfiguration", p.Spec.FlinkConfiguration}}
		way = fmt.Sprintf("to start from a savepoint, set spec.job.startFromSavepoint (kubectl savepoint start -a %s --savepoint NAME)", p.Name)
	default:
		return ""
	}
	for _, f := range fields {
		keys := make([]string, 0, len(f.config))
		for k := range f.config {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the same answer every time
		for _, k := range keys {
			if why := reservedWhy(k); why != "" {
				return fmt.Sprintf("%s[%s] %s, which only the savepoint manager sets on a compute pool: remove it; %s", f.name, k, why, way)
			}
		}
	}
	for _, s := range flink.SplitStatements(sql) {
		key, isSet, readable := setKey(s)
		switch {
		case !isSet:
		case !readable:
			return fmt.Sprintf("spec.statement: the key of %q cannot be read: write it as SET 'key' = 'value', or move the setting to spec.properties", abbreviate(s))
		case reservedWhy(key) != "":
			return fmt.Sprintf("spec.statement sets %s (%s), which %s and only the savepoint manager sets on a compute pool: remove it; %s", key, abbreviate(s), reservedWhy(key), way)
		}
	}
	return ""
}

// setKey reads the key of a SQL SET statement (comments already removed),
// in either form Flink accepts: SET 'key' = 'value' and SET key = value.
// isSet is false for any other statement; readable is false for a SET
// whose key is not plainly one of those forms (escapes, a charset prefix,
// literals that Flink's parser would join), so that nothing that Flink
// might read as a reserved key passes unseen. A bare SET (which lists the
// session's settings) has the key "".
func setKey(stmt string) (key string, isSet, readable bool) {
	s := strings.TrimSpace(stmt)
	if len(s) < 3 || !strings.EqualFold(s[:3], "set") {
		return "", false, false
	}
	rest := s[3:]
	if rest != "" && rest[0] != '\'' && !isSpace(rest[0]) {
		return "", false, false // SETTINGS…, SET_X…: another word
	}
	rest = strings.TrimLeft(rest, " \t\r\n\f")
	if rest == "" {
		return "", true, true
	}
	if rest[0] == '\'' {
		var b strings.Builder
		i := 1
		for ; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return "", true, false // unterminated
		}
		after := strings.TrimLeft(rest[i+1:], " \t\r\n\f")
		if !strings.HasPrefix(after, "=") {
			return "", true, false // e.g. 'execution.' 'savepoint.path': adjacent literals are joined
		}
		return b.String(), true, true
	}
	end := strings.IndexAny(rest, "= \t\r\n\f")
	if end < 0 {
		end = len(rest)
	}
	key = rest[:end]
	for _, c := range key {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-$", c)) {
			return "", true, false
		}
	}
	return key, true, true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }

// abbreviate shortens a statement for a one-line message.
func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
