#!/usr/bin/env node
// Render documents with citeproc-js (npm `citeproc`), the CSL reference implementation,
// for tools/citeproc_js_compare.py and tools/csl_suite.py --engine citeproc-js.
//
//   node tools/citeproc_js/render.js < jobs.json > results.json
//
// stdin:  {"jobs": [{"name": str, "style": CSL XML, "locales": {"en-US": XML, ...},
//                    "lang": optional locale, overriding the style's default-locale,
//                    "items": [CSL-JSON], "clusters": [{"items": [cite items],
//                    "noteIndex": n}, ...] in document order}]}
//         cite items as citeproc-js reads them: id, locator, label, prefix, suffix,
//         suppress-author, author-only.
// stdout: {"version": citeproc-js version, "results": [{"name", "clusters": [HTML, ...],
//          "bibliography": [[item id, entry HTML], ...] or null, "error": null or text}]}
//
// The document is made as Zotero refreshes one: rebuildProcessorState registers every
// item of every cluster first, then processes the clusters in document order, each with
// its note index; the text of a cluster is its last one (a later cluster may change an
// earlier one, e.g. by year-suffix disambiguation). Output format: html.
// citeproc-js is looked up in .tools/citeproc-js (installed by ./dev.sh test), or in
// $CITEPROC_JS (the folder holding node_modules/citeproc).
"use strict";

const fs = require("fs");
const path = require("path");

function loadCiteproc() {
  const root = process.env.CITEPROC_JS ||
    path.join(__dirname, "..", "..", ".tools", "citeproc-js");
  return require(path.join(root, "node_modules", "citeproc"));
}

function localeFinder(locales) {
  // citeproc-js asks for "en-US" and for the style's language (e.g. "de-DE", or "fr").
  return (lang) => {
    if (locales[lang]) return locales[lang];
    const base = String(lang).split("-")[0];
    const near = Object.keys(locales).find((key) => key.split("-")[0] === base);
    return near ? locales[near] : undefined;
  };
}

function render(CSL, job) {
  const items = {};
  // system_id (Zotero's item key) is what citeproc-js hands embedBibliographyEntry.
  for (const item of job.items) items[String(item.id)] = { ...item, system_id: String(item.id) };
  const sys = {
    retrieveLocale: localeFinder(job.locales || {}),
    retrieveItem: (id) => items[String(id)],
    // citeproc-js's hook after each entry: it names the entry's item (its system_id). (params.entry_ids
    // keeps the ids of the entries that render empty, which the entries leave out.)
    embedBibliographyEntry: (id) => `<!--entry-id:${id}-->`,
  };
  const engine = new CSL.Engine(sys, job.style, job.lang || undefined, !!job.lang);
  const citations = job.clusters.map((cluster, n) => ({
    citationID: `CLUSTER-${n}`,
    citationItems: cluster.items.map((cite) => ({ ...cite, id: String(cite.id) })),
    properties: { noteIndex: cluster.noteIndex || 0 },
  }));
  const done = engine.rebuildProcessorState(citations, "html", []);
  const clusters = done.map((triple) => triple[2]);
  let bibliography = null;
  const made = engine.makeBibliography();  // false: the style has no bibliography
  if (made) {
    bibliography = made[1].map((entry) => {
      const id = /<!--entry-id:(.*?)-->/.exec(entry);
      return [id ? id[1] : "?", entry.replace(/<!--entry-id:.*?-->\n?/, "")];
    });
  }
  return { name: job.name, clusters, bibliography, error: null };
}

function main() {
  const input = JSON.parse(fs.readFileSync(0, "utf8"));
  const CSL = loadCiteproc();
  const results = input.jobs.map((job) => {
    try {
      return render(CSL, job);
    } catch (err) {
      return { name: job.name, clusters: [], bibliography: null, error: String(err && err.stack || err) };
    }
  });
  process.stdout.write(JSON.stringify({ version: CSL.PROCESSOR_VERSION, results }));
}

main();
