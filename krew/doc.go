// Package krew packages kubectl-savepoint for krew: the plugin manifest
// template (savepoint.yaml.tmpl), the release script (dist.sh, run by
// `make dist`) and the completion script shipped in every archive. It has no
// Go API; its test builds the release and installs it the way krew does.
package krew
