/**
 * The places in src/ where the constructs report a validation error: every `errors.push(...)` (one problem of a
 * list the construct throws together) and every `throw new Error(...)` that is not such a list. Each is named by its
 * file, its line and its longest literal text, which a message from that place contains.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';

export interface ErrorSite {
  readonly file: string;
  readonly line: number;
  /** The longest literal text of the message (what the message of this site is found by). */
  readonly fragment: string;
}

const ROOT = join(__dirname, '..', '..');

/** The TypeScript files of src/ (the library), but the example app's entry. */
function sourceFiles(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && entry.name !== 'integ.default.ts' ? [path] : [];
  });
}

/** The literal texts of an expression: string literals and the fixed parts of template literals. */
function literalTexts(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) {
    return [node.head.text, ...node.templateSpans.flatMap((span) => [...literalTexts(span.expression), span.literal.text])];
  }
  const texts: string[] = [];
  node.forEachChild((child) => { texts.push(...literalTexts(child)); });
  return texts;
}

/** Every error site of src/. */
export function errorSites(): ErrorSite[] {
  const sites: ErrorSite[] = [];
  for (const path of sourceFiles()) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      let message: ts.Expression | undefined;
      if (ts.isCallExpression(node) && node.expression.getText(source) === 'errors.push') message = node.arguments[0];
      if (ts.isThrowStatement(node) && node.expression !== undefined && ts.isNewExpression(node.expression)
        && node.expression.expression.getText(source) === 'Error') {
        message = node.expression.arguments?.[0];
      }
      // A list of problems thrown together: its items are the sites.
      if (message !== undefined && !/errors\.join/.test(message.getText(source))) {
        const fragment = literalTexts(message).reduce((longest, text) => (text.length > longest.length ? text : longest), '');
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        sites.push({ file: relative(ROOT, path), line: line + 1, fragment });
      }
      node.forEachChild(visit);
    };
    visit(source);
  }
  return sites;
}
