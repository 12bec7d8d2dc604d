export {
  createRunRenderer,
  type RunRenderer,
  type RunRendererOptions,
  type RenderTarget,
} from "./run-renderer.js";
