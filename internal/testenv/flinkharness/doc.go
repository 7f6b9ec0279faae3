// Package flinkharness runs a real Apache Flink for the end-to-end tests: a session
// MiniCluster in its own JVM, built from the Maven project in e2e/flink-job, optionally
// running a small stateful streaming job and an embedded SQL Gateway.
//
// Tests call [Start]; a playground command calls [StartProcess]. Both build the fat jar
// once per content of e2e/flink-job (see [Jar]) and cache it, with the Maven downloads,
// under the repository's ignored .cache folder, so only the first run on a machine pays
// for Maven.
//
// Java 17+ and Maven 3.8+ must be installed; there is no skip when they are missing,
// because a skipped end-to-end test proves nothing.
package flinkharness
