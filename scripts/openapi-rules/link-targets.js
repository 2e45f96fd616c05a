// Spectral function: every link names an operationId the document has (a link to nothing is a typo no
// schema check finds).
export default function linkTargets(links, _options, { document }) {
  const ids = new Set();
  for (const operations of Object.values(document.data.paths ?? {}))
    for (const operation of Object.values(operations)) if (operation?.operationId) ids.add(operation.operationId);
  return Object.entries(links ?? {}).flatMap(([name, link]) =>
    ids.has(link.operationId) ? [] : [{ message: `link ${name} names operationId ${link.operationId}, which no operation has` }],
  );
}
