import {
  Metadata,
  type MethodDefinition,
  type sendUnaryData,
  type ServiceDefinition,
  status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";

/** A protobuf service and its handlers, ready for `server.addService`. */
export interface ServiceBinding {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/**
 * What grpc-js routes a method by, without its messages: the path and whether the response streams.
 * Only methods with one request message can be deferred (the request is decoded in the handler).
 */
export interface MethodShape {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: boolean;
}

/** The part of a grpc-js unary or server-streaming call a deferred handler uses. */
interface DeferredCall {
  request: unknown;
  readonly cancelled: boolean;
  emit(event: "error", err: Error): boolean;
}

/**
 * A service registered now whose messages and handlers are loaded at its first call, by `load`: the
 * server answers SERVING without having parsed code that a deployment may never call (Flyte 2's
 * connector services are 17 generated modules, about 20 ms of start-up and 2 MB of memory). The
 * methods are routed by `shapes` and receive their request as bytes; once `load` has settled, each
 * call's request is decoded by the loaded method's own decoder and handed to the loaded handler, and
 * responses are encoded by the loaded encoder, so a deferred service answers exactly as the loaded
 * one would. A request that does not decode is answered INTERNAL, as grpc-js answers it
 * (grpc-js 1.14.7 server-interceptors.ts:794, "Error deserializing request: ...").
 */
export function deferredService(
  shapes: Readonly<Record<string, MethodShape>>,
  load: () => Promise<ServiceBinding>,
): ServiceBinding {
  let loaded: ServiceBinding | undefined;
  let loading: Promise<ServiceBinding> | undefined;
  const ready = (): Promise<ServiceBinding> => (loading ??= load().then((binding) => (loaded = binding)));
  const method = (name: string): MethodDefinition<unknown, unknown> => {
    const real = loaded?.definition[name];
    if (!real) throw new Error(`${shapes[name]!.path} is used before its service has loaded`);
    return real;
  };
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  const implementation: Record<string, UntypedHandleCall> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    definition[name] = {
      path: shape.path,
      requestStream: false,
      responseStream: shape.responseStream,
      requestSerialize: (value) => method(name).requestSerialize(value),
      requestDeserialize: (bytes) => bytes,
      // A response is only sent by a loaded handler, so the encoder is there by then.
      responseSerialize: (value) => method(name).responseSerialize(value),
      responseDeserialize: (bytes) => method(name).responseDeserialize(bytes),
    };
    implementation[name] = ((call: DeferredCall, callback?: sendUnaryData<unknown>) => {
      const fail = (details: string): void => {
        const err = Object.assign(new Error(details), {
          code: status.INTERNAL,
          details,
          metadata: new Metadata(),
        });
        if (callback) callback(err);
        else call.emit("error", err);
      };
      ready().then(
        (binding) => {
          // The first call waited for the load: its client may have gone meanwhile.
          if (call.cancelled) return;
          try {
            call.request = method(name).requestDeserialize(call.request as Buffer);
          } catch (err) {
            fail(`Error deserializing request: ${(err as Error).message}`);
            return;
          }
          const handler = binding.implementation[name] as (
            call: DeferredCall,
            callback?: sendUnaryData<unknown>,
          ) => void;
          handler(call, callback);
        },
        (err: unknown) => fail(`${shape.path} is unavailable: ${(err as Error).message}`),
      );
    }) as UntypedHandleCall;
  }
  return { definition, implementation };
}
