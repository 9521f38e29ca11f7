// The trip features shared by prediction and training examples live beside the EtaModel
// contract (schemas/eta-features.ts), where the trainer computes the same ones.
export { tripFeatures, type TripFeatures } from '../../schemas/eta-features.ts';
