// Reads the pinned `stripe` package's TypeScript declarations with the compiler API, so tests can
// ask "does Stripe.Invoice have this property, and may it be null?" at any depth.
import ts from 'typescript';
import { join } from 'node:path';

const VIRTUAL = join(process.cwd(), '__stripe_shape_probe__.ts');

export class SdkTypes {
  private readonly checker: ts.TypeChecker;
  private readonly aliases = new Map<string, ts.Type>();

  constructor(typeNames: string[]) {
    const source = `import Stripe from 'stripe';\n` + typeNames.map((n, i) => `export type T${i} = ${n};`).join('\n');
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (name, lang, ...rest) =>
      name === VIRTUAL ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (name) => name === VIRTUAL || fileExists(name);
    const program = ts.createProgram([VIRTUAL], options, host);
    this.checker = program.getTypeChecker();
    const file = program.getSourceFile(VIRTUAL)!;
    const moduleSymbol = this.checker.getSymbolAtLocation(file)!;
    const exports = this.checker.getExportsOfModule(moduleSymbol);
    typeNames.forEach((n, i) => {
      const sym = exports.find((e) => e.name === `T${i}`)!;
      this.aliases.set(n, this.checker.getDeclaredTypeOfSymbol(sym));
    });
  }

  root(name: string): ts.Type {
    const t = this.aliases.get(name);
    if (!t) throw new Error(`unknown type ${name}`);
    return t;
  }

  /** The declared type of `type[key]`, or undefined when the SDK does not declare the key. */
  property(type: ts.Type, key: string): ts.Type | undefined {
    const candidates = type.isUnion() ? type.types : [type];
    for (const t of candidates) {
      const sym = this.checker.getPropertyOfType(this.checker.getApparentType(t), key);
      if (sym) return this.checker.getTypeOfSymbol(sym);
    }
    return undefined;
  }

  /** True when the SDK declares `type[key]` optional (`key?:`): Stripe may omit it. */
  optional(type: ts.Type, key: string): boolean {
    const candidates = type.isUnion() ? type.types : [type];
    for (const t of candidates) {
      const sym = this.checker.getPropertyOfType(this.checker.getApparentType(t), key);
      if (sym) return (sym.flags & ts.SymbolFlags.Optional) !== 0;
    }
    return false;
  }

  nullable(type: ts.Type): boolean {
    const parts = type.isUnion() ? type.types : [type];
    return parts.some((t) => (t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0);
  }

  /** The element type of an array type (through unions with null). */
  element(type: ts.Type): ts.Type | undefined {
    const parts = type.isUnion() ? type.types : [type];
    for (const t of parts) {
      if (this.checker.isArrayType(t)) return this.checker.getTypeArguments(t as ts.TypeReference)[0];
    }
    return undefined;
  }

  /** Object members of a (possibly nullable, possibly `string | Obj`) type. */
  objectPart(type: ts.Type): ts.Type {
    const parts = type.isUnion() ? type.types : [type];
    const objects = parts.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0 && !this.checker.isArrayType(t));
    if (objects.length === 1) return objects[0];
    return type;
  }
}
